package main

import (
	"time"
)

// The guest's CPUs are threads of qemu on the host. When something else
// keeps the host's cores busy (another VM: the host has as many cores as
// the guest), everything in the guest runs slower, and the guest's clock,
// which follows the host's, counts the difference: a run would be charged
// for the other program's work. The guest cannot read the host's load, but
// it can feel it: a fixed piece of CPU work, the probe, takes longer than
// it does on a quiet host.
//
// So every run starts only once the probe is as quick as the quickest seen
// (within busyFactor), and a run at whose end the probe is slow is
// measured again (up to maxAttempts), no matter which side it was: the
// probe runs when the guest itself is quiet (before the run after the idle
// wait, after it once the program has exited), so what it feels is the
// host, not the program measured. Contention that comes and goes within a
// run can still slip through; the report shows the host's load during the
// run.

const (
	// probeIterations of a multiply-add chain: about 110 ms natively and
	// 125 ms under TCG. Shorter probes are too noisy under TCG even on a
	// quiet host (at 10 ms, one in ten is 1.5× the quickest or slower; at
	// 125 ms, none in 30 passed 1.12×), while with one host core's worth
	// of other work the probe is 1.35× its quickest or slower, always.
	probeIterations = 100_000_000
	// busyFactor: a probe this much slower than the quickest means a busy
	// host; a quiet guest's own noise stays below (see probeIterations).
	busyFactor = 1.25
	// maxAttempts of one measurement before it is taken despite a busy
	// host (and counted).
	maxAttempts = 3
)

// probeSink keeps the compiler from dropping the probe's work.
var probeSink uint64

// probe times the fixed work.
func probe() time.Duration {
	start := time.Now()
	x := uint64(1)
	for range probeIterations {
		x = x*6364136223846793005 + 1442695040888963407
	}
	probeSink += x
	return time.Since(start)
}

// hostBusy probes the host and returns whether it is busy, and the probe's
// time over the quickest seen so far.
func (b *bench) hostBusy() (bool, float64) {
	d := probe()
	if b.quickestProbe == 0 || d < b.quickestProbe {
		b.quickestProbe = d
		b.record.Meta.ProbeQuickestMillis = float64(d) / float64(time.Millisecond)
	}
	r := float64(d) / float64(b.quickestProbe)
	return r > busyFactor, r
}

// calibrateProbe finds the probe's time on a quiet host: the quickest of
// a few, taken when the guest is idle.
func (b *bench) calibrateProbe() {
	for range 10 {
		b.hostBusy()
	}
	b.logf("host probe: %.1f ms at the quickest", b.record.Meta.ProbeQuickestMillis)
}

// measure runs one measurement, once gives its value. When the host was
// busy as the measured command ended (timed records it), the value is
// thrown away and the measurement made again, maxAttempts times at most;
// the last is then kept, and busy says so.
//
// Waiting and measuring again are paid from b.contentionBudget: once it is
// spent, runs start without waiting for a quiet host and are kept as they
// come (marked busy when the host was), so that a host busy for good
// cannot stretch the run past the VM's time limit.
func (b *bench) measure(what string, once func() (float64, error)) (v float64, busy bool, err error) {
	for attempt := 1; ; attempt++ {
		b.busyAfter = false
		start := time.Now()
		v, err := once()
		if err != nil || !b.busyAfter {
			return v, false, err
		}
		if attempt == maxAttempts || b.budgetSpent() {
			b.record.Meta.BusyRuns++
			b.logf("warning: %s: the host was busy as it ended (probe %.2f× its quickest); keeping %.3f", what, b.busyRatio, v)
			return v, true, nil
		}
		b.spend(time.Since(start))
		b.record.Meta.Repeats++
		b.logf("%s: the host was busy as it ended (probe %.2f× its quickest); measuring again", what, b.busyRatio)
	}
}

// spend charges d to the contention budget.
func (b *bench) spend(d time.Duration) {
	b.record.Meta.ContentionSeconds += d.Seconds()
	if b.budgetSpent() && !b.budgetWarned {
		b.budgetWarned = true
		b.logf("warning: %v spent on a busy host; from now on runs neither wait for it nor repeat", b.contentionBudget)
	}
}

func (b *bench) budgetSpent() bool {
	return b.record.Meta.ContentionSeconds >= b.contentionBudget.Seconds()
}
