package rules_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/rules"
)

// savedTables returns, by scenario and step, every -S output of the
// reference ipvsadm 1.31 in the golden scenarios that exited 0, with
// whether it is numeric.
func savedTables(t testing.TB) map[string]struct {
	text    string
	numeric bool
} {
	t.Helper()
	paths, err := filepath.Glob("../testdata/scenarios/*.golden")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no goldens: %v", err)
	}
	saved := make(map[string]struct {
		text    string
		numeric bool
	})
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range strings.Split(string(data), "=== step ")[1:] {
			header, rest, _ := strings.Cut(step, "\n$ ")
			command, rest, _ := strings.Cut(rest, "\n")
			args := strings.Fields(command)
			save := len(args) > 0 && args[0] == "ipvsadm-save" ||
				len(args) > 1 && len(args) <= 3 && args[0] == "ipvsadm" && (args[1] == "-S" || args[1] == "-Sn" || args[1] == "--save")
			if !save || !strings.Contains(rest, "--- exit 0\n") {
				continue
			}
			numeric := strings.Contains(command, "-n") || strings.Contains(command, "-Sn")
			_, out, _ := strings.Cut(rest, "--- stdout ")
			size, out, _ := strings.Cut(out, "\n")
			n, err := strconv.Atoi(size)
			if err != nil || n > len(out) {
				t.Fatalf("%s step %s: bad stdout size %q", path, header, size)
			}
			saved[filepath.Base(path)+" step "+header] = struct {
				text    string
				numeric bool
			}{out[:n], numeric}
		}
	}
	return saved
}

// cutName reports whether ipvsadm cut an address or a name in a -S output:
// it prints at most 59 bytes of each.
func cutName(saved string) bool {
	for _, token := range strings.Fields(saved) {
		if len(token) == 59 {
			return true
		}
	}
	return false
}

// TestFormatIsTheReferenceSave reads every table the reference saved in the
// golden scenarios and formats it again: the bytes are the reference's,
// and reading them again gives the same set.
func TestFormatIsTheReferenceSave(t *testing.T) {
	names := testenv.GoldenNames(t)
	saved := savedTables(t)
	tested := 0
	for where, s := range saved {
		set, err := rules.Parse(strings.NewReader(s.text), names)
		if err != nil {
			// Names cut at 59 bytes, marks ipvsadm 1.31 printed negative:
			// the reference's own output that -R refuses too.
			t.Logf("%s: not restorable: %v", where, err)
			continue
		}
		tested++
		var b bytes.Buffer
		if cutName(s.text) {
			// ipvsadm cut a name at 59 bytes, so what the reference
			// saved is not the table it had, and formatting what
			// it restores does not give the same bytes; it must
			// still be stable.
			if err := rules.Format(&b, set, s.numeric, names); err != nil {
				t.Fatal(err)
			}
			s.text = b.String()
			if set, err = rules.Parse(strings.NewReader(s.text), names); err != nil {
				t.Fatalf("%s: parsing our own output: %v", where, err)
			}
			b.Reset()
		}
		if err := rules.Format(&b, set, s.numeric, names); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s.text, b.String()); diff != "" {
			t.Errorf("%s: Format (-reference +ours):\n%s", where, diff)
			continue
		}
		again, err := rules.Parse(&b, names)
		if err != nil {
			t.Fatalf("%s: parsing our own output: %v", where, err)
		}
		if diff := cmp.Diff(set, again, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("%s: parse, format, parse (-first +second):\n%s", where, diff)
		}
	}
	if tested < 50 {
		t.Errorf("only %d saved tables could be tested", tested)
	}
	t.Logf("%d saved tables of the reference formatted alike", tested)
}
