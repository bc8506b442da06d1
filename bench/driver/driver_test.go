package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lvsgo/ipvsadm/bench/result"
)

func TestRotatedStartsWithEachSideInTurn(t *testing.T) {
	// The restore row's sides.
	sides := []string{"reference", "ours", "atomic", "floor", "floor, acked"}
	first := map[string]int{}
	for r := range 10 {
		got := rotated(sides, r)
		if len(got) != len(sides) {
			t.Fatalf("run %d: %v", r, got)
		}
		first[got[0]]++
		if r == 0 && got[0] != "reference" {
			t.Errorf("run 0 starts with %s, want the reference", got[0])
		}
	}
	for _, s := range sides {
		if first[s] != 2 {
			t.Errorf("%s first in %d of 10 runs, want 2", s, first[s])
		}
	}
}

// TestOneShotScriptMakesDistinctDestinations runs the loop with echo in
// place of ipvsadm.
func TestOneShotScriptMakesDistinctDestinations(t *testing.T) {
	out, err := exec.Command("/bin/sh", "-c", oneShotScript, "sh", "echo", "500").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 500 {
		t.Fatalf("%d commands, want 500", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 6 || f[0] != "-a" || f[2] != "10.0.0.1:80" || f[3] != "-r" || f[5] != "-m" {
			t.Fatalf("command %q", l)
		}
		if _, err := netip.ParseAddrPort(f[4]); err != nil || seen[f[4]] {
			t.Fatalf("destination %q: bad or repeated (%v)", f[4], err)
		}
		seen[f[4]] = true
	}
}

func TestTimedIsTheWholeProcessAndFailsOnExitStatus(t *testing.T) {
	b := &bench{work: t.TempDir(), record: &result.Run{}}
	d, _, err := b.timed(command{argv: []string{"/bin/sh", "-c", "sleep 0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("sleep 0.2 took %v", d)
	}
	_, _, err = b.timed(command{argv: []string{"/bin/sh", "-c", "echo refused >&2; exit 3"}})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("failing command: err = %v, want its error output", err)
	}
}

func TestProbeFeelsABusyCPU(t *testing.T) {
	if testing.Short() || runtime.NumCPU() > 8 {
		t.Skip("needs a small machine to make busy")
	}
	b := &bench{record: &result.Run{}}
	for range 5 {
		b.hostBusy()
	}
	// Other processes, as another VM's threads would be.
	for range 2 * runtime.NumCPU() {
		spin := exec.Command("/bin/sh", "-c", "while :; do :; done")
		if err := spin.Start(); err != nil {
			t.Fatal(err)
		}
		defer spin.Wait()
		defer spin.Process.Kill()
	}
	time.Sleep(50 * time.Millisecond)
	if busy, ratio := b.hostBusy(); !busy {
		t.Errorf("probe %.2f× its quickest with every CPU busy twice over, want above %.2f", ratio, busyFactor)
	}
}

func TestCPUTimes(t *testing.T) {
	idle, total, err := cpuTimes()
	if err != nil {
		t.Skip("no /proc/stat:", err)
	}
	if idle > total || total == 0 {
		t.Errorf("idle %d of total %d", idle, total)
	}
}

// The helper process of TestPeakMemory: touches 64 MiB, then exits from a
// goroutine that need not run on the first thread.
func TestMain(m *testing.M) {
	if os.Getenv("IPVS_BENCH_ALLOCATE") == "1" {
		b := make([]byte, 64<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		done := make(chan bool)
		go func() {
			runtime.LockOSThread()
			fmt.Println(len(b))
			os.Exit(0)
		}()
		<-done
	}
	os.Exit(m.Run())
}

func TestPeakMemoryIsTheProgramsOwn(t *testing.T) {
	b := &bench{work: t.TempDir()}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	os.Setenv("IPVS_BENCH_ALLOCATE", "1")
	defer os.Unsetenv("IPVS_BENCH_ALLOCATE")
	done := make(chan struct{})
	var kib int64
	go func() {
		defer close(done)
		runtime.LockOSThread()
		kib, _, err = b.peakMemory(command{argv: []string{exe}})
	}()
	<-done
	if err != nil {
		if strings.Contains(err.Error(), "operation not permitted") {
			t.Skip("ptrace not permitted here:", err)
		}
		t.Fatal(err)
	}
	if kib < 64<<10 || kib > 256<<10 {
		t.Errorf("VmHWM %d KiB, want a little over 64 MiB", kib)
	}
}
