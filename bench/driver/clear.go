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
			check := func(got []byte) error {
				if len(got) != 0 {
					return b.sameOutput(fmt.Sprintf("table after %s -C of %s run %d", sd.name, s.Short(), r+1), nil, got)
				}
				return nil
			}
			if err := b.runInNamespace(&row, what, sd, func() error { return b.load(s) }, check); err != nil {
				return err
			}
		}
	}
	return b.add(row)
}
