package main

import (
	"fmt"

	"github.com/lvsgo/ipvsadm/bench/result"
	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// memoryRow measures the peak memory (VmHWM) of -Sn of set s, on both
// sides, in one namespace loaded once; the outputs must be equal.
func (b *bench) memoryRow(s ruleset.Set) error {
	sides := []side{
		{result.SideReference, command{argv: []string{b.ref, "-Sn"}}},
		{result.SideOurs, command{argv: []string{b.ours, "-Sn"}}},
	}
	row := newRow(result.BlockMemory, "peak memory -Sn", s, sides)
	for i := range row.Sides {
		row.Sides[i].Unit = result.KiB
	}
	return b.inNamespace(func() error {
		if err := b.load(s); err != nil {
			return err
		}
		var want []byte
		for r := range b.runsSlow {
			for _, sd := range rotated(sides, r) {
				if err := b.waitIdle(); err != nil {
					return err
				}
				kib, out, err := b.peakMemory(sd.cmd)
				if err != nil {
					return err
				}
				got, err := out.read()
				if err != nil {
					return err
				}
				if want == nil {
					if lines(got) != s.Rules() {
						return fmt.Errorf("the table loaded lists %d lines (-Sn), want %d", lines(got), s.Rules())
					}
					want = got
				} else if err := b.sameOutput(fmt.Sprintf("-Sn output of %s under ptrace on %s run %d", sd.name, s.Short(), r+1), want, got); err != nil {
					return err
				}
				addValue(&row, sd.name, float64(kib), false)
				b.logf("peak memory -Sn %s run %d/%d %s: %d KiB", s.Label(), r+1, b.runsSlow, sd.name, kib)
			}
		}
		return b.add(row)
	})
}
