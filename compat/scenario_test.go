package compat_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The golden scenarios: testdata/scenarios/*.scn, written by hand, and their
// .golden files, written by `make golden` from what the reference ipvsadm
// 1.31 printed on the real kernel. Both formats are described in
// testdata/scenarios/README.md. vm/golden-guest.sh parses scenarios the same
// way in bash; the input checksum of every golden step holds the two parsers
// together and catches a golden older than its scenario.

const scenarioDir = "../testdata/scenarios"

// A scenarioFile is one .scn file.
type scenarioFile struct {
	name        string // file name without .scn
	path        string
	description string
	kernelOnly  string // why only the real kernel can replay it; "" if any kernel can
	differs     string // the README's "Differences from ipvsadm 1.31" entry it shows; "" if none
	steps       []scenarioStep
}

// A scenarioStep is one invocation of ipvsadm, ipvsadm-save or
// ipvsadm-restore.
type scenarioStep struct {
	line   string   // as written: "$ ipvsadm -Ln"
	lineno int      // of line in the file
	args   []string // argv; args[0] is the program
	stdin  []byte
}

// A stepOutcome is what an invocation printed and returned.
type stepOutcome struct {
	stdout, stderr string
	status         int
}

// A goldenStep is the reference's outcome of one step.
type goldenStep struct {
	line     string
	inputSum string
	stepOutcome
}

// A goldenScenario is a scenario and the reference's outcome of its steps.
type goldenScenario struct {
	scenarioFile
	golden  []goldenStep
	problem error // the scenario cannot be replayed: why
}

// inputSum is the SHA-256 of the step's argv elements, each followed by a
// NUL byte, then its stdin: what vm/golden.sh records for the step.
func (st scenarioStep) inputSum() string {
	h := sha256.New()
	for _, a := range st.args {
		h.Write([]byte(a))
		h.Write([]byte{0})
	}
	h.Write(st.stdin)
	return hex.EncodeToString(h.Sum(nil))
}

// where names a step in messages: file, line, number and command.
func (sc scenarioFile) where(i int) string {
	st := sc.steps[i]
	return fmt.Sprintf("%s:%d: step %d `%s`", sc.path, st.lineno, i+1, strings.TrimPrefix(st.line, "$ "))
}

var (
	scenarioPrograms = map[string]bool{"ipvsadm": true, "ipvsadm-save": true, "ipvsadm-restore": true}
	scenarioHeredoc  = regexp.MustCompile(`^(.*) <<EOF(-RAW)?$`)
)

// parseScenario parses a .scn file.
func parseScenario(path string, data []byte) (scenarioFile, error) {
	sc := scenarioFile{name: strings.TrimSuffix(filepath.Base(path), ".scn"), path: path}
	lines := strings.Split(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	fail := func(n int, format string, a ...any) (scenarioFile, error) {
		return scenarioFile{}, fmt.Errorf("%s:%d: %s", path, n, fmt.Sprintf(format, a...))
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") || len(lines[0]) == 2 {
		return fail(1, "the first line must be '# ' and what the scenario proves")
	}
	sc.description = strings.TrimPrefix(lines[0], "# ")
	for i := 1; i < len(lines); i++ {
		line, n := lines[i], i+1
		if strings.Contains(line, "\r") {
			return fail(n, "CR in a scenario file (use <<EOF-RAW and \\r)")
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "#! kernel-only ") && len(line) > len("#! kernel-only "):
			sc.kernelOnly = strings.TrimPrefix(line, "#! kernel-only ")
		case strings.HasPrefix(line, "#! differs ") && len(line) > len("#! differs "):
			sc.differs = strings.TrimPrefix(line, "#! differs ")
		case strings.HasPrefix(line, "#!"):
			return fail(n, "unknown directive: %s", line)
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "$ "):
			st := scenarioStep{line: line, lineno: n, stdin: []byte{}}
			cmd, heredoc := strings.TrimPrefix(line, "$ "), ""
			if m := scenarioHeredoc.FindStringSubmatch(cmd); m != nil {
				cmd, heredoc = m[1], "LF"
				if m[2] != "" {
					heredoc = "RAW"
				}
			}
			args, err := splitScenarioWords(cmd)
			if err != nil {
				return fail(n, "%v", err)
			}
			if len(args) == 0 {
				return fail(n, "empty step")
			}
			if !scenarioPrograms[args[0]] {
				return fail(n, "a step runs ipvsadm, ipvsadm-save or ipvsadm-restore, not %s", args[0])
			}
			st.args = args
			if heredoc != "" {
				closed := false
				for i++; i < len(lines); i++ {
					if lines[i] == "EOF" {
						closed = true
						break
					}
					if strings.Contains(lines[i], "\r") {
						return fail(i+1, "CR in a scenario file (use <<EOF-RAW and \\r)")
					}
					if heredoc == "LF" {
						st.stdin = append(append(st.stdin, lines[i]...), '\n')
						continue
					}
					b, err := scenarioRawBytes(lines[i])
					if err != nil {
						return fail(i+1, "%v", err)
					}
					st.stdin = append(st.stdin, b...)
				}
				if !closed {
					return fail(n, "missing EOF")
				}
			}
			sc.steps = append(sc.steps, st)
		default:
			return fail(n, "neither a comment nor a step: %s", line)
		}
	}
	if len(sc.steps) == 0 {
		return fail(len(lines), "no steps")
	}
	return sc, nil
}

// splitScenarioWords splits a step's command on spaces; '...' is taken
// literally.
func splitScenarioWords(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			word.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == ' ':
			if inWord {
				words = append(words, word.String())
			}
			word.Reset()
			inWord = false
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// scenarioRawBytes replaces the escapes of a <<EOF-RAW line.
func scenarioRawBytes(s string) ([]byte, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		if i+1 == len(s) {
			return nil, errors.New(`a line ends in a lone backslash (escapes: \n \r \t \\ \xHH)`)
		}
		i++
		switch s[i] {
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case '\\':
			b = append(b, '\\')
		case 'x':
			if i+3 > len(s) {
				return nil, errors.New(`\x needs two hex digits`)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, errors.New(`\x needs two hex digits`)
			}
			b = append(b, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf(`bad escape \%c (escapes: \n \r \t \\ \xHH)`, s[i])
		}
	}
	return b, nil
}

// readGolden reads a .golden file.
func readGolden(path string) ([]goldenStep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(bytes.NewReader(data))
	line := func() (string, bool) {
		l, err := r.ReadString('\n')
		return strings.TrimSuffix(l, "\n"), err == nil
	}
	field := func(prefix string) (string, bool) {
		l, ok := line()
		return strings.TrimPrefix(l, prefix), ok && strings.HasPrefix(l, prefix)
	}
	number := func(prefix string) (int, bool) {
		v, ok := field(prefix)
		n, err := strconv.Atoi(v)
		return n, ok && err == nil && n >= 0
	}
	// A section is COUNT bytes, then a newline if they do not end in one.
	section := func(name string) (string, bool) {
		n, ok := number("--- " + name + " ")
		if !ok {
			return "", false
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", false
		}
		if n > 0 && b[n-1] != '\n' {
			if c, err := r.ReadByte(); err != nil || c != '\n' {
				return "", false
			}
		}
		return string(b), true
	}

	var steps []goldenStep
	for {
		b, err := r.Peek(1)
		if err != nil {
			break
		}
		if b[0] == '#' && len(steps) == 0 {
			line()
			continue
		}
		n := len(steps) + 1
		fail := func(what string) ([]goldenStep, error) {
			return nil, fmt.Errorf("%s: step %d: %s (regenerate it with make golden)", path, n, what)
		}
		var g goldenStep
		var ok bool
		if h, _ := line(); h != fmt.Sprintf("=== step %d", n) {
			return fail(fmt.Sprintf("header %q", h))
		}
		if g.line, ok = line(); !ok || !strings.HasPrefix(g.line, "$ ") {
			return fail("no command line")
		}
		if g.inputSum, ok = field("--- input sha256 "); !ok {
			return fail("no input checksum")
		}
		if g.status, ok = number("--- exit "); !ok {
			return fail("no exit status")
		}
		if g.stdout, ok = section("stdout"); !ok {
			return fail("bad stdout")
		}
		if g.stderr, ok = section("stderr"); !ok {
			return fail("bad stderr")
		}
		steps = append(steps, g)
	}
	return steps, nil
}

// matches tells whether golden was generated from the scenario as it is.
func (sc scenarioFile) matches(golden []goldenStep) error {
	if len(golden) != len(sc.steps) {
		return fmt.Errorf("%d steps in the scenario, %d in the golden", len(sc.steps), len(golden))
	}
	for i, st := range sc.steps {
		if golden[i].line != st.line {
			return fmt.Errorf("step %d is `%s` in the scenario, `%s` in the golden", i+1, st.line, golden[i].line)
		}
		if golden[i].inputSum != st.inputSum() {
			return fmt.Errorf("step %d `%s`: its argv or stdin differ from the golden's", i+1, st.line)
		}
	}
	return nil
}

// loadGoldenScenarios parses every scenario and its golden. A scenario that
// does not parse, has no golden or a golden older than itself has problem
// set, for its own subtest to report.
func loadGoldenScenarios(t *testing.T) []goldenScenario {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(scenarioDir, "*.scn"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no scenarios in %s", scenarioDir)
	}
	var all []goldenScenario
	for _, path := range paths {
		all = append(all, loadGoldenScenario(path))
	}
	return all
}

func loadGoldenScenario(path string) goldenScenario {
	gs := goldenScenario{scenarioFile: scenarioFile{name: strings.TrimSuffix(filepath.Base(path), ".scn"), path: path}}
	data, err := os.ReadFile(path)
	if err != nil {
		gs.problem = err
		return gs
	}
	sc, err := parseScenario(path, data)
	if err != nil {
		gs.problem = err
		return gs
	}
	gs.scenarioFile = sc
	gpath := strings.TrimSuffix(path, ".scn") + ".golden"
	gs.golden, err = readGolden(gpath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		gs.problem = fmt.Errorf("%s has no golden: run make golden", path)
	case err != nil:
		gs.problem = err
	default:
		if err := sc.matches(gs.golden); err != nil {
			gs.problem = fmt.Errorf("%s: %v: the golden is stale, run make golden", gpath, err)
		}
	}
	return gs
}

// replayGolden runs the steps of a scenario with run and holds every
// outcome to the golden, byte for byte. An error (a panic) ends the
// scenario: the state of the kernel is unknown after it.
func replayGolden(t *testing.T, gs goldenScenario, run func(scenarioStep) (stepOutcome, error)) {
	t.Helper()
	if gs.problem != nil {
		t.Fatal(gs.problem)
	}
	for i, st := range gs.steps {
		want := gs.golden[i].stepOutcome
		got, err := run(st)
		if err != nil {
			t.Fatalf("%s: %v", gs.where(i), err)
		}
		if diff := cmp.Diff(want.stdout, got.stdout); diff != "" {
			t.Errorf("%s: stdout (-want +got):\n%s", gs.where(i), diff)
		}
		if diff := cmp.Diff(want.stderr, got.stderr); diff != "" {
			t.Errorf("%s: stderr (-want +got):\n%s", gs.where(i), diff)
		}
		if got.status != want.status {
			t.Errorf("%s: exit status %d, want %d", gs.where(i), got.status, want.status)
		}
	}
}

// TestGoldenScenariosAreCurrent checks that every scenario parses and has
// an up-to-date golden, and that every golden has a scenario.
func TestGoldenScenariosAreCurrent(t *testing.T) {
	all := loadGoldenScenarios(t)
	goldens, err := filepath.Glob(filepath.Join(scenarioDir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + ".scn"); err != nil {
			t.Errorf("%s has no scenario: make golden removes it", g)
		}
	}
	steps, kernelOnly := 0, 0
	for _, gs := range all {
		if gs.problem != nil {
			t.Error(gs.problem)
		}
		steps += len(gs.steps)
		if gs.kernelOnly != "" {
			kernelOnly++
		}
	}
	t.Logf("%d scenarios, %d steps, %d kernel-only", len(all), steps, kernelOnly)
}

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
