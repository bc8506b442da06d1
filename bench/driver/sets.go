package main

import (
	"os"
	"path/filepath"

	"github.com/lvsgo/ipvsadm/bench/ipvsmsg"
	"github.com/lvsgo/ipvsadm/bench/result"
	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// setFiles are a rule set's inputs: the restore input both ipvsadm read,
// and the same restore as pre-built requests for ipvs-floor.
type setFiles struct {
	rules    string
	requests string
}

// files writes the inputs of s into the scratch directory, once.
func (b *bench) files(s ruleset.Set) (setFiles, error) {
	dir := filepath.Join(b.work, "sets", s.Short())
	f := setFiles{rules: filepath.Join(dir, "rules"), requests: filepath.Join(dir, "requests.bin")}
	if _, err := os.Stat(f.requests); err == nil {
		return f, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, err
	}
	w, err := os.Create(f.rules)
	if err != nil {
		return f, err
	}
	if err := s.WriteRestore(w); err != nil {
		w.Close()
		return f, err
	}
	if err := w.Close(); err != nil {
		return f, err
	}
	msgs, _ := ipvsmsg.AppendRestore(nil, s, 1)
	return f, os.WriteFile(f.requests, msgs, 0o644)
}

// load fills the table of the current namespace with s, untimed, with the
// kernel floor: the fastest loader there is, and one whose tables the
// restore rows compare with the reference's.
func (b *bench) load(s ruleset.Set) error {
	f, err := b.files(s)
	if err != nil {
		return err
	}
	_, err = b.untimed(command{argv: []string{b.floor}, stdin: f.requests})
	return err
}

// A side of a row as the driver runs it.
type side struct {
	name string
	cmd  command
}

// newRow makes the record of a row whose sides are sides, in their order.
func newRow(block, name string, s ruleset.Set, sides []side) result.Row {
	row := result.Row{Block: block, Name: name, Set: s.Label(), Services: s.Services, DestsPerService: s.DestsPerService}
	for _, sd := range sides {
		row.Sides = append(row.Sides, result.Side{Name: sd.name, Command: sd.cmd.String(), Unit: result.Seconds})
	}
	return row
}

// addValue records one run of side name; busy marks a run kept although
// the host was busy.
func addValue(row *result.Row, name string, v float64, busy bool) {
	sd := row.Side(name)
	if busy {
		sd.Busy = append(sd.Busy, len(sd.Values))
	}
	sd.Values = append(sd.Values, v)
}
