package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lvsgo/ipvsadm/bench/result"
	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// The sets; the last is left out in quick mode.
var (
	defaultSets = "1000x4,10000x1,100x100,50000x1"
	quickSets   = "1000x4,10000x1,100x100"
	allBlocks   = []string{result.BlockRestore, result.BlockList, result.BlockClear, result.BlockOneShot, result.BlockMemory}
)

// slowRules: sets with more rules than this are measured runsSlow times.
const slowRules = 50000

// bench is one run of the benchmark.
type bench struct {
	ref, ours, oursRestore, floor string // programs under test

	runs, runsSlow int
	oneShot        int
	memorySet      ruleset.Set

	idleFraction float64
	idleWindow   time.Duration
	idleLimit    time.Duration

	work       string // scratch directory
	outPath    string // JSON record
	namespaces int    // made so far, for their names

	quickestProbe time.Duration // of the host probe, so far
	busyAfter     bool          // the host was busy as the last timed command ended
	busyRatio     float64       // its probe over the quickest

	contentionBudget time.Duration // for waits on and repeats for a busy host
	budgetWarned     bool

	record *result.Run
	table  io.Writer // the plain-text table
	log    io.Writer // progress
}

func main() {
	err := run()
	var m *mismatchError
	if errors.As(err, &m) {
		fmt.Fprintf(os.Stderr, "\nipvs-bench: FAILED: %v\n", err)
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipvs-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	b := &bench{table: os.Stdout, log: os.Stderr}
	flag.StringVar(&b.outPath, "out", "/out/bench.json", "write the record as JSON to `file`")
	flag.IntVar(&b.runs, "runs", 5, "runs per side of each row")
	flag.IntVar(&b.runsSlow, "runs-slow", 3, fmt.Sprintf("runs per side of rows of sets over %d rules, the one-shot loop and the memory row", slowRules))
	quick := flag.Bool("quick", false, "one run per side, no 50,000-service rows, memory at 10,000 services")
	blocks := flag.String("blocks", strings.Join(allBlocks, ","), "blocks to run, in this order")
	sets := flag.String("sets", "", "rule sets SERVICESxDESTS, comma-separated (default "+defaultSets+")")
	memorySet := flag.String("memory-set", "", "rule set of the memory row (default 50000x1; 10000x1 with -quick)")
	flag.IntVar(&b.oneShot, "oneshot", 500, "ipvsadm -a processes in the one-shot loop")
	flag.StringVar(&b.ref, "ref", "/opt/ref/sbin/ipvsadm", "the reference ipvsadm")
	flag.StringVar(&b.ours, "ours", "/usr/local/sbin/ipvsadm", "our ipvsadm")
	flag.StringVar(&b.oursRestore, "ours-restore", "/usr/local/sbin/ipvsadm-restore", "our ipvsadm-restore")
	flag.StringVar(&b.floor, "floor", "/usr/local/sbin/ipvs-floor", "the kernel floor program")
	flag.StringVar(&b.work, "work", "/tmp/ipvs-bench", "scratch `directory` (emptied)")
	flag.Float64Var(&b.idleFraction, "idle", 0.95, "idle share of the CPU to wait for before each run")
	flag.DurationVar(&b.idleWindow, "idle-window", 500*time.Millisecond, "window over which the idle share is measured")
	flag.DurationVar(&b.idleLimit, "idle-limit", 3*time.Minute, "longest wait for an idle CPU")
	flag.DurationVar(&b.contentionBudget, "contention-budget", 30*time.Minute, "longest time, in all, to wait for a quiet host or repeat runs it disturbed")
	accel := flag.String("accel", "tcg", "qemu accelerator, for the record")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}

	setList, memSet := defaultSets, "50000x1"
	if *quick {
		b.runs, b.runsSlow = 1, 1
		setList, memSet = quickSets, "10000x1"
	}
	if *sets != "" {
		setList = *sets
	}
	if *memorySet != "" {
		memSet = *memorySet
	}
	var ss []ruleset.Set
	for _, s := range strings.Split(setList, ",") {
		set, err := ruleset.Parse(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		ss = append(ss, set)
	}
	var err error
	if b.memorySet, err = ruleset.Parse(memSet); err != nil {
		return err
	}
	var bl []string
	for _, name := range strings.Split(*blocks, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(allBlocks, name) {
			return fmt.Errorf("unknown block %q (have %s)", name, strings.Join(allBlocks, ", "))
		}
		bl = append(bl, name)
	}
	if b.runs < 1 || b.runsSlow < 1 {
		return fmt.Errorf("-runs and -runs-slow must be at least 1")
	}

	if err := os.RemoveAll(b.work); err != nil {
		return err
	}
	if err := os.MkdirAll(b.work, 0o755); err != nil {
		return err
	}
	if dir := filepath.Dir(b.outPath); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	b.record = &result.Run{Meta: systemMeta(*accel)}
	b.record.Meta.Quick = *quick
	b.record.Meta.Runs, b.record.Meta.RunsSlow, b.record.Meta.OneShot = b.runs, b.runsSlow, b.oneShot
	b.record.Meta.Reference, b.record.Meta.Ours = b.ref, b.ours
	b.record.Meta.IdleFraction, b.record.Meta.IdleWindowSeconds = b.idleFraction, b.idleWindow.Seconds()
	b.record.Meta.ContentionBudget = b.contentionBudget.Seconds()
	start := time.Now()

	fmt.Fprintf(b.table, "ipvs-bench: kernel %s, %d CPUs (%s), medians of %d runs (%d for the slowest rows)\n\n",
		b.record.Meta.Kernel, b.record.Meta.CPUs, b.record.Meta.CPUModel, b.runs, b.runsSlow)
	result.WriteTextHeader(b.table)

	b.calibrateProbe()
	err = b.warmUp()
	if err == nil {
		err = b.runBlocks(bl, ss)
	}
	b.record.Meta.DurationSeconds = time.Since(start).Seconds()
	if err != nil {
		b.record.Error = err.Error()
	}
	if werr := result.Write(b.outPath, b.record); werr != nil && err == nil {
		err = werr
	}
	if err == nil {
		fmt.Fprintf(b.table, "\nipvs-bench: done in %.0f s; record in %s\n", b.record.Meta.DurationSeconds, b.outPath)
	}
	return err
}

func (b *bench) runBlocks(blocks []string, sets []ruleset.Set) error {
	for _, block := range blocks {
		var err error
		switch block {
		case result.BlockRestore:
			err = b.forSets(sets, b.restoreRow)
		case result.BlockList:
			err = b.forSets(sets, b.listRows)
		case result.BlockClear:
			err = b.forSets(sets, b.clearRow)
		case result.BlockOneShot:
			err = b.oneShotRow()
		case result.BlockMemory:
			err = b.memoryRow(b.memorySet)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", block, err)
		}
	}
	return nil
}

func (b *bench) forSets(sets []ruleset.Set, fn func(ruleset.Set) error) error {
	for _, s := range sets {
		if err := fn(s); err != nil {
			return fmt.Errorf("%s: %w", s.Label(), err)
		}
	}
	return nil
}

// runsOf is how many times each side of a row on set s runs.
func (b *bench) runsOf(s ruleset.Set) int {
	if s.Rules() > slowRules {
		return b.runsSlow
	}
	return b.runs
}

// add records a finished row: its medians, the table line, and the JSON
// file, rewritten after every row so that a run cut short keeps what it
// measured.
func (b *bench) add(row result.Row) error {
	for i := range row.Sides {
		row.Sides[i].Median = result.Median(row.Sides[i].Values)
	}
	b.record.Rows = append(b.record.Rows, row)
	result.WriteTextRow(b.table, &row)
	return result.Write(b.outPath, b.record)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "ipvs-bench: "+format+"\n", args...)
}

// inNamespace runs fn in a new network namespace, deleted afterwards.
func (b *bench) inNamespace(fn func() error) error {
	b.namespaces++
	ns, err := newNamespace(fmt.Sprintf("ipvs-bench-%d", b.namespaces))
	if err != nil {
		return err
	}
	err = ns.do(fn)
	if derr := ns.delete(); derr != nil && err == nil {
		err = derr
	}
	return err
}

// rotated is sides in the order of run r: each run starts one side later,
// so no side is always first (or always right after another), and run 0
// starts with the reference.
func rotated[T any](sides []T, r int) []T {
	out := make([]T, 0, len(sides))
	for k := range sides {
		out = append(out, sides[(r+k)%len(sides)])
	}
	return out
}
