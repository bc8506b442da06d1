package testenv

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScenarioWords(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"ipvsadm -Ln", []string{"ipvsadm", "-Ln"}},
		{"ipvsadm  -A   -t x ", []string{"ipvsadm", "-A", "-t", "x"}},
		{"ipvsadm -b ''", []string{"ipvsadm", "-b", ""}},
		{"ipvsadm --pe='' 'a b' x'y z'", []string{"ipvsadm", "--pe=", "a b", "xy z"}},
	} {
		got, err := splitScenarioWords(tt.in)
		if err != nil {
			t.Errorf("splitScenarioWords(%q): %v", tt.in, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitScenarioWords(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	if _, err := splitScenarioWords("ipvsadm 'x"); err == nil {
		t.Error("splitScenarioWords accepted an unterminated quote")
	}
}

func TestScenarioRawBytes(t *testing.T) {
	got, err := scenarioRawBytes(`a\r\n\tb\\n\x20\x7e`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\r\n\tb\\n ~"; string(got) != want {
		t.Errorf("scenarioRawBytes = %q, want %q", got, want)
	}
	for _, bad := range []string{`\q`, `x\`, `\x4`, `\xzz`} {
		if _, err := scenarioRawBytes(bad); err == nil {
			t.Errorf("scenarioRawBytes(%q) accepted a bad escape", bad)
		}
	}
}
