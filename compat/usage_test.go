package compat

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUsageTextMatchesReference checks -h against what the Debian 1.31
// binary prints with argv[0] "ipvsadm": 82 lines, 4645 bytes and the md5
// of §10.1 of the reference.
func TestUsageTextMatchesReference(t *testing.T) {
	text := usageText("ipvsadm")
	sum := md5.Sum([]byte(text))
	if got, want := hex.EncodeToString(sum[:]), "1123ac9ccf51a984b8b1c99b929d2e21"; got != want {
		t.Errorf("md5 of the usage text = %s, want %s", got, want)
	}
	if got, want := len(text), 4645; got != want {
		t.Errorf("usage text is %d bytes, want %d", got, want)
	}
	if got, want := strings.Count(text, "\n"), 82; got != want {
		t.Errorf("usage text has %d lines, want %d", got, want)
	}
}

// TestUsageTextProgramName checks that argv[0] is used verbatim in the
// thirteen usage lines and nowhere else (the version line says "ipvsadm").
func TestUsageTextProgramName(t *testing.T) {
	text := usageText("/sbin/ipvsadm%s")
	if got, want := strings.Count(text, "/sbin/ipvsadm%s"), 13; got != want {
		t.Errorf("program name appears %d times, want %d", got, want)
	}
	want := versionText + "Usage:\n  /sbin/ipvsadm%s -A|E virtual-service"
	if !strings.HasPrefix(text, want) {
		t.Errorf("usage text starts %q, want %q", text[:len(want)], want)
	}
	if !strings.Contains(text, "  /sbin/ipvsadm%s -h\n\nCommands:\n") {
		t.Error("usage text lacks the blank line after the usage forms")
	}
}

// TestParseArgsHelpAndVersion checks that -h and -v, as the first option,
// end the invocation on stdout with status 0 whatever follows them.
func TestParseArgsHelpAndVersion(t *testing.T) {
	usage := &exit{stdout: usageText("/sbin/ipvsadm")}
	version := &exit{stdout: "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"}
	for _, tt := range []struct {
		args []string
		want *exit
	}{
		{[]string{"-h"}, usage},
		{[]string{"--help"}, usage},
		{[]string{"--help", "extra", "-Lq", "--bogus"}, usage},
		{[]string{"-hv"}, usage},
		{[]string{"nonoption", "-h"}, usage},
		{[]string{"-v"}, version},
		{[]string{"--version"}, version},
		{[]string{"-vh"}, version},
		{[]string{"-v", "-L"}, version},
	} {
		_, got := parseArgs(append([]string{"/sbin/ipvsadm"}, tt.args...), grammarNames)
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(exit{})); diff != "" {
			t.Errorf("ipvsadm %s (-want +got):\n%s", strings.Join(tt.args, " "), diff)
		}
	}
}
