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
					what := fmt.Sprintf("%s %s run %d/%d %s", name, s.Label(), r+1, n, sd.name)
					v, busy, err := b.measure(what, func() (float64, error) {
						if err := b.waitIdle(); err != nil {
							return 0, err
						}
						d, out, err := b.timed(sd.cmd)
						if err != nil {
							return 0, err
						}
						got, err := out.read()
						if err != nil {
							return 0, err
						}
						if want == nil {
							if name == "-Sn" && lines(got) != s.Rules() {
								return 0, fmt.Errorf("the table loaded for %s lists %d lines (-Sn), want %d", name, lines(got), s.Rules())
							}
							want = got
							return d.Seconds(), nil
						}
						return d.Seconds(), b.sameOutput(fmt.Sprintf("%s output of %s on %s run %d", name, sd.name, s.Short(), r+1), want, got)
					})
					if err != nil {
						return err
					}
					addValue(&row, sd.name, v, busy)
					b.logf("%s: %.3f s", what, v)
				}
			}
			if err := b.add(row); err != nil {
				return err
			}
		}
		return nil
	})
}
