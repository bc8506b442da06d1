package main

import (
	"fmt"

	"github.com/lvsgo/ipvsadm/bench/result"
	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// clearRow measures -C of set s: each run in a fresh namespace, loaded
// before the clock starts; afterwards the reference must list an empty
// table.
func (b *bench) clearRow(s ruleset.Set) error {
	sides := []side{
		{result.SideReference, command{argv: []string{b.ref, "-C"}}},
		{result.SideOurs, command{argv: []string{b.ours, "-C"}}},
	}
	row := newRow(result.BlockClear, "-C", s, sides)
	n := b.runsOf(s)
	for r := range n {
		for _, sd := range rotated(sides, r) {
			what := fmt.Sprintf("-C %s run %d/%d %s", s.Label(), r+1, n, sd.name)
			v, busy, err := b.measure(what, func() (v float64, err error) {
				err = b.inNamespace(func() error {
					if err := b.load(s); err != nil {
						return err
					}
					if err := b.waitIdle(); err != nil {
						return err
					}
					d, _, err := b.timed(sd.cmd)
					if err != nil {
						return err
					}
					v = d.Seconds()
					got, err := b.untimed(b.listTable())
					if err != nil {
						return err
					}
					if len(got) != 0 {
						return b.sameOutput(fmt.Sprintf("table after %s -C of %s run %d", sd.name, s.Short(), r+1), nil, got)
					}
					return nil
				})
				return v, err
			})
			if err != nil {
				return err
			}
			addValue(&row, sd.name, v, busy)
			b.logf("%s: %.3f s", what, v)
		}
	}
	return b.add(row)
}
