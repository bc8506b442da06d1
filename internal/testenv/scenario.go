package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The golden scenarios, testdata/scenarios/*.scn, as testdata/scenarios/
// README.md describes them. compat replays them against the goldens; the
// fuzz tests of compat and rules take their command lines and restore
// inputs as seeds. vm/golden-guest.sh parses scenarios the same way in bash;
// the input checksum of every golden step (Step.InputSum) holds the two
// parsers together.

// ScenarioDir is the scenarios' folder, relative to a package folder at the
// top of the module, where go test runs a package's tests.
const ScenarioDir = "../testdata/scenarios"

// A Scenario is one .scn file.
type Scenario struct {
	Name        string // file name without .scn
	Path        string
	Description string
	KernelOnly  string // why only the real kernel can replay it; "" if any kernel can
	Differs     string // the README's "Differences from ipvsadm 1.31" entry it shows; "" if none
	Steps       []Step
}

// A Step is one invocation of ipvsadm, ipvsadm-save or ipvsadm-restore.
type Step struct {
	Line   string   // as written: "$ ipvsadm -Ln"
	Lineno int      // of Line in the file
	Args   []string // argv; Args[0] is the program
	Stdin  []byte
}

// InputSum is the SHA-256 of the step's argv elements, each followed by a
// NUL byte, then its stdin: what vm/golden.sh records for the step.
func (st Step) InputSum() string {
	h := sha256.New()
	for _, a := range st.Args {
		h.Write([]byte(a))
		h.Write([]byte{0})
	}
	h.Write(st.Stdin)
	return hex.EncodeToString(h.Sum(nil))
}

// Scenarios reads every scenario; one that does not parse fails t.
func Scenarios(t testing.TB) []Scenario {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(ScenarioDir, "*.scn"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no scenarios in %s", ScenarioDir)
	}
	all := make([]Scenario, 0, len(paths))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ParseScenario(path, data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, sc)
	}
	return all
}

var (
	scenarioPrograms = map[string]bool{"ipvsadm": true, "ipvsadm-save": true, "ipvsadm-restore": true}
	scenarioHeredoc  = regexp.MustCompile(`^(.*) <<EOF(-RAW)?$`)
)

// ParseScenario parses the .scn file at path, whose contents are data.
func ParseScenario(path string, data []byte) (Scenario, error) {
	sc := Scenario{Name: strings.TrimSuffix(filepath.Base(path), ".scn"), Path: path}
	lines := strings.Split(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	fail := func(n int, format string, a ...any) (Scenario, error) {
		return Scenario{}, fmt.Errorf("%s:%d: %s", path, n, fmt.Sprintf(format, a...))
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") || len(lines[0]) == 2 {
		return fail(1, "the first line must be '# ' and what the scenario proves")
	}
	sc.Description = strings.TrimPrefix(lines[0], "# ")
	for i := 1; i < len(lines); i++ {
		line, n := lines[i], i+1
		if strings.Contains(line, "\r") {
			return fail(n, "CR in a scenario file (use <<EOF-RAW and \\r)")
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "#! kernel-only ") && len(line) > len("#! kernel-only "):
			sc.KernelOnly = strings.TrimPrefix(line, "#! kernel-only ")
		case strings.HasPrefix(line, "#! differs ") && len(line) > len("#! differs "):
			sc.Differs = strings.TrimPrefix(line, "#! differs ")
		case strings.HasPrefix(line, "#!"):
			return fail(n, "unknown directive: %s", line)
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "$ "):
			st := Step{Line: line, Lineno: n, Stdin: []byte{}}
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
			st.Args = args
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
						st.Stdin = append(append(st.Stdin, lines[i]...), '\n')
						continue
					}
					b, err := scenarioRawBytes(lines[i])
					if err != nil {
						return fail(i+1, "%v", err)
					}
					st.Stdin = append(st.Stdin, b...)
				}
				if !closed {
					return fail(n, "missing EOF")
				}
			}
			sc.Steps = append(sc.Steps, st)
		default:
			return fail(n, "neither a comment nor a step: %s", line)
		}
	}
	if len(sc.Steps) == 0 {
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
