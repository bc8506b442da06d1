package main

import (
	"fmt"
	"strconv"

	"github.com/lvsgo/ipvsadm/bench/result"
)

// oneShotScript adds $2 destinations to one service, one ipvsadm process
// ($1) each, as a provisioning script would. The loop's own work is shell
// builtins only, the same for both sides.
const oneShotScript = `i=1
while [ "$i" -le "$2" ]; do
	"$1" -a -t 10.0.0.1:80 -r 10.200.$((i / 256)).$((i % 256)):8080 -m || exit 1
	i=$((i + 1))
done`

// oneShotRow measures the whole loop of b.oneShot separate ipvsadm -a
// processes, in a fresh namespace per run whose service is made before
// the clock starts. The table it leaves must be the one the reference's
// first loop left.
func (b *bench) oneShotRow() error {
	loop := func(ipvsadm string) command {
		return command{argv: []string{"/bin/sh", "-c", oneShotScript, "sh", ipvsadm, strconv.Itoa(b.oneShot)}}
	}
	sides := []side{
		{result.SideReference, loop(b.ref)},
		{result.SideOurs, loop(b.ours)},
	}
	row := result.Row{Block: result.BlockOneShot, Name: fmt.Sprintf("%d one-shot -a", b.oneShot), Services: 1, DestsPerService: b.oneShot}
	for _, sd := range sides {
		row.Sides = append(row.Sides, result.Side{Name: sd.name, Command: "sh loop: " + sd.cmd.argv[4] + " -a -t 10.0.0.1:80 -r 10.200.x.y:8080 -m", Unit: result.Seconds})
	}
	var want []byte
	for r := range b.runsSlow {
		for _, sd := range rotated(sides, r) {
			what := fmt.Sprintf("one-shot run %d/%d %s", r+1, b.runsSlow, sd.name)
			check := func(got []byte) error {
				if want == nil {
					if lines(got) != 1+b.oneShot {
						return fmt.Errorf("the reference's loop made a table of %d lines (-Sn), want %d", lines(got), 1+b.oneShot)
					}
					want = got
					return nil
				}
				return b.sameOutput(fmt.Sprintf("table after %s one-shot run %d", sd.name, r+1), want, got)
			}
			if err := b.runInNamespace(&row, what, sd, func() error {
				_, err := b.untimed(command{argv: []string{b.ref, "-A", "-t", "10.0.0.1:80", "-s", "rr"}})
				return err
			}, check); err != nil {
				return err
			}
		}
	}
	return b.add(row)
}
