package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// waitIdle returns once the CPU has been idle for at least b.idleFraction
// of one b.idleWindow (all CPUs together, from /proc/stat), so that a
// measurement never shares the CPU with the kernel still freeing the
// namespace of the one before, or with anything else; and once the host
// is quiet too (host.go). After b.idleLimit it gives up, counts the
// timeout in the run's record and warns: the measurement is made, but the
// report shows the count.
func (b *bench) waitIdle() error {
	start := time.Now()
	deadline := start.Add(b.idleLimit)
	waited, quiet := false, 0
	defer func() {
		if waited {
			b.spend(time.Since(start))
		}
	}()
	for {
		i0, t0, err := cpuTimes()
		if err != nil {
			return err
		}
		time.Sleep(b.idleWindow)
		i1, t1, err := cpuTimes()
		if err != nil {
			return err
		}
		idle := 1.0
		if t1 > t0 {
			idle = float64(i1-i0) / float64(t1-t0)
		}
		busy, ratio := false, 0.0
		if idle >= b.idleFraction {
			if b.budgetSpent() {
				return nil
			}
			// A busy host may pause for a moment: once it was found
			// busy, it must be quiet twice in a row, a window apart.
			if busy, ratio = b.hostBusy(); !busy {
				quiet++
				if !waited {
					return nil
				}
				if quiet >= 2 {
					b.record.Meta.HostWaits++
					return nil
				}
				continue
			}
			quiet = 0
			if !waited {
				b.logf("the host is busy (probe %.2f× its quickest); waiting", ratio)
			}
			waited = true
		}
		if time.Now().After(deadline) {
			b.record.Meta.IdleTimeouts++
			b.logf("warning: CPU not idle after %v (%.0f%% idle, host probe %.2f× its quickest); measuring anyway", b.idleLimit, 100*idle, ratio)
			return nil
		}
	}
}

// cpuTimes returns idle (idle + iowait) and total ticks of all CPUs.
func cpuTimes() (idle, total uint64, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, fmt.Errorf("/proc/stat: empty")
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected first line %q", sc.Text())
	}
	// user nice system idle iowait irq softirq steal (guest time is
	// already inside user and nice).
	for i, s := range fields[1:min(len(fields), 9)] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		total += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return idle, total, nil
}
