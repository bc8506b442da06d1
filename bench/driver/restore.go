package main

import (
	"fmt"

	"github.com/lvsgo/ipvsadm/bench/result"
	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// restoreRow measures loading set s into the empty table of a fresh
// namespace: the reference's ipvsadm -R, ours, ours ipvsadm-restore
// --atomic, the kernel floor of our protocol (no ack asked for success)
// and that of the reference's (every request acked, ipvs-floor -acked).
// After each run the reference lists the table (-Sn, untimed) and the
// listing must be the one of the table the reference's first restore
// made.
func (b *bench) restoreRow(s ruleset.Set) error {
	f, err := b.files(s)
	if err != nil {
		return err
	}
	sides := []side{
		{result.SideReference, command{argv: []string{b.ref, "-R"}, stdin: f.rules}},
		{result.SideOurs, command{argv: []string{b.ours, "-R"}, stdin: f.rules}},
		{result.SideAtomic, command{argv: []string{b.oursRestore, "--atomic"}, stdin: f.rules}},
		{result.SideFloor, command{argv: []string{b.floor}, stdin: f.requests}},
		{result.SideFloorAcked, command{argv: []string{b.floor, "-acked"}, stdin: f.requests}},
	}
	row := newRow(result.BlockRestore, "-R", s, sides)
	var want []byte
	n := b.runsOf(s)
	for r := range n {
		for _, sd := range rotated(sides, r) {
			what := fmt.Sprintf("-R %s run %d/%d %s", s.Label(), r+1, n, sd.name)
			check := func(got []byte) error {
				if want == nil {
					// Run 0 starts with the reference.
					if l := lines(got); l != s.Rules() {
						return fmt.Errorf("the reference's restore made a table of %d lines (-Sn), want %d", l, s.Rules())
					}
					want = got
					return nil
				}
				return b.sameOutput(fmt.Sprintf("table after %s restore of %s run %d", sd.name, s.Short(), r+1), want, got)
			}
			if err := b.runInNamespace(&row, what, sd, nil, check); err != nil {
				return err
			}
		}
	}
	return b.add(row)
}

// listTable is the reference's -Sn, the judge of every table.
func (b *bench) listTable() command { return command{argv: []string{b.ref, "-Sn"}} }

// runInNamespace measures one run of sd in a fresh namespace and adds it to
// row: prepare (untimed, may be nil) loads what the run needs, the clock
// runs while sd's command does, then check judges the table the reference
// lists (-Sn) after it.
func (b *bench) runInNamespace(row *result.Row, what string, sd side, prepare func() error, check func(table []byte) error) error {
	v, busy, err := b.measure(what, func() (v float64, err error) {
		err = b.inNamespace(func() error {
			if prepare != nil {
				if err := prepare(); err != nil {
					return err
				}
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
			return check(got)
		})
		return v, err
	})
	if err != nil {
		return err
	}
	addValue(row, sd.name, v, busy)
	b.logf("%s: %.3f s", what, v)
	return nil
}
