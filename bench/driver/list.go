package main

import (
	"fmt"
	"strings"

	"github.com/lvsgo/ipvsadm/bench/result"
	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// listings are the listing rows of each set.
var listings = [][]string{{"-Ln"}, {"-Sn"}, {"-Ln", "--stats"}}

// listRows measures the listings of set s. Listing changes nothing, so one
// namespace, loaded once, serves every run of both sides; each run still
// waits for an idle CPU. Every output must equal the reference's first.
func (b *bench) listRows(s ruleset.Set) error {
	return b.inNamespace(func() error {
		if err := b.load(s); err != nil {
			return err
		}
		for _, op := range listings {
			name := strings.Join(op, " ")
			sides := []side{
				{result.SideReference, command{argv: append([]string{b.ref}, op...)}},
				{result.SideOurs, command{argv: append([]string{b.ours}, op...)}},
			}
			row := newRow(result.BlockList, name, s, sides)
			var want []byte
			n := b.runsOf(s)
			for r := range n {
				for _, sd := range rotated(sides, r) {
					if err := b.waitIdle(); err != nil {
						return err
					}
					d, out, err := b.timed(sd.cmd)
					if err != nil {
						return err
					}
					got, err := out.read()
					if err != nil {
						return err
					}
					if want == nil {
						if name == "-Sn" && lines(got) != s.Rules() {
							return fmt.Errorf("the table loaded for %s lists %d lines (-Sn), want %d", name, lines(got), s.Rules())
						}
						want = got
					} else if err := b.sameOutput(fmt.Sprintf("%s output of %s on %s run %d", name, sd.name, s.Short(), r+1), want, got); err != nil {
						return err
					}
					addValue(&row, sd.name, d.Seconds())
					b.logf("%s %s run %d/%d %s: %.3f s", name, s.Label(), r+1, n, sd.name, d.Seconds())
				}
			}
			if err := b.add(row); err != nil {
				return err
			}
		}
		return nil
	})
}
