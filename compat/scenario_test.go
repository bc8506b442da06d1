package compat_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/internal/testenv"
)

// The golden scenarios: testdata/scenarios/*.scn, written by hand and read
// by internal/testenv, and their .golden files, written by `make golden`
// from what the reference ipvsadm 1.31 printed on the real kernel. Both
// formats are described in testdata/scenarios/README.md. The input checksum
// of every golden step catches a golden older than its scenario.

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
	testenv.Scenario
	golden  []goldenStep
	problem error // the scenario cannot be replayed: why
}

// where names a step in messages: file, line, number and command.
func (gs goldenScenario) where(i int) string {
	st := gs.Steps[i]
	return fmt.Sprintf("%s:%d: step %d `%s`", gs.Path, st.Lineno, i+1, strings.TrimPrefix(st.Line, "$ "))
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

// goldenMatches tells whether golden was generated from the scenario as it
// is.
func goldenMatches(sc testenv.Scenario, golden []goldenStep) error {
	if len(golden) != len(sc.Steps) {
		return fmt.Errorf("%d steps in the scenario, %d in the golden", len(sc.Steps), len(golden))
	}
	for i, st := range sc.Steps {
		if golden[i].line != st.Line {
			return fmt.Errorf("step %d is `%s` in the scenario, `%s` in the golden", i+1, st.Line, golden[i].line)
		}
		if golden[i].inputSum != st.InputSum() {
			return fmt.Errorf("step %d `%s`: its argv or stdin differ from the golden's", i+1, st.Line)
		}
	}
	return nil
}

// loadGoldenScenarios parses every scenario and its golden. A scenario that
// does not parse, has no golden or a golden older than itself has problem
// set, for its own subtest to report.
func loadGoldenScenarios(t *testing.T) []goldenScenario {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(testenv.ScenarioDir, "*.scn"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no scenarios in %s", testenv.ScenarioDir)
	}
	var all []goldenScenario
	for _, path := range paths {
		all = append(all, loadGoldenScenario(path))
	}
	return all
}

func loadGoldenScenario(path string) goldenScenario {
	gs := goldenScenario{Scenario: testenv.Scenario{Name: strings.TrimSuffix(filepath.Base(path), ".scn"), Path: path}}
	data, err := os.ReadFile(path)
	if err != nil {
		gs.problem = err
		return gs
	}
	sc, err := testenv.ParseScenario(path, data)
	if err != nil {
		gs.problem = err
		return gs
	}
	gs.Scenario = sc
	gpath := strings.TrimSuffix(path, ".scn") + ".golden"
	gs.golden, err = readGolden(gpath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		gs.problem = fmt.Errorf("%s has no golden: run make golden", path)
	case err != nil:
		gs.problem = err
	default:
		if err := goldenMatches(sc, gs.golden); err != nil {
			gs.problem = fmt.Errorf("%s: %v: the golden is stale, run make golden", gpath, err)
		}
	}
	return gs
}

// replayGolden runs the steps of a scenario with run and holds every
// outcome to the golden, byte for byte. An error (a panic) ends the
// scenario: the state of the kernel is unknown after it.
func replayGolden(t *testing.T, gs goldenScenario, run func(testenv.Step) (stepOutcome, error)) {
	t.Helper()
	if gs.problem != nil {
		t.Fatal(gs.problem)
	}
	for i, st := range gs.Steps {
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
	goldens, err := filepath.Glob(filepath.Join(testenv.ScenarioDir, "*.golden"))
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
		steps += len(gs.Steps)
		if gs.KernelOnly != "" {
			kernelOnly++
		}
	}
	t.Logf("%d scenarios, %d steps, %d kernel-only", len(all), steps, kernelOnly)
}
