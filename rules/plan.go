package rules

import (
	"errors"
	"fmt"
	"slices"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// A Plan is the writes that turn a table into a rule set, in order, each
// with the writes that undo it.
type Plan struct {
	Steps []Step
}

// A Step is one write of a Plan.
type Step struct {
	Op ipvs.Op
	// Line is the input line that asks for the write; 0 for the removal
	// of what the input does not have.
	Line int
	// undo puts back what Op changes, in order; nil for a creation, which
	// its removal undoes (so that a big load does not hold every write
	// twice).
	undo []ipvs.Op
}

// Diff returns the plan that turns the table from, as Read returns it, into
// to in place, touching nothing that is set alike in both: first the
// services and destinations to has and from lacks, in to's order, then
// those set differently, then the removal of what from has and to lacks,
// so that a service never has fewer destinations on the way than at
// either end. The order of destinations that are in both is left as it is.
func Diff(from, to *Set) *Plan {
	if len(from.Services) == 0 {
		// A load into an empty table is all creations: sized for
		// that, they are made without growing (a Step is some 280
		// bytes, and 50,000 services' steps grown by append were most
		// of a load's allocations).
		steps := make([]Step, 0, to.writes())
		for i := range to.Services {
			steps = appendCreate(steps, &to.Services[i])
		}
		return &Plan{Steps: steps}
	}
	// A reload is mostly what the table has already, so the creations
	// are sized for the writes to has beyond from's, and grow if more.
	creates := make([]Step, 0, max(to.writes()-from.writes(), 0))
	var edits, deletes []Step
	fromIndex := from.index()
	// inTo[j] tells that a service of to has the key of from's service
	// j, so that from's services need not be looked up again.
	inTo := make([]bool, len(from.Services))
	for i := range to.Services {
		s := &to.Services[i]
		j, ok := fromIndex.get(keyOf(&s.Service))
		if !ok {
			creates = appendCreate(creates, s)
			continue
		}
		inTo[j] = true
		old := &from.Services[j]
		if !sameService(&s.Service, &old.Service) {
			edits = append(edits, Step{
				Op:   ipvs.Op{Command: ipvs.CmdSetService, Service: s.Service},
				Line: s.Line,
				undo: []ipvs.Op{{Command: ipvs.CmdSetService, Service: old.Service}},
			})
		}
		oldDests := destinationsOf(old)
		newDests := destinationsOf(s)
		for k := range s.Destinations {
			d := &s.Destinations[k]
			n, ok := oldDests.find(destinationKeyOf(&d.Destination))
			switch {
			case !ok:
				creates = append(creates, createDestination(&s.Service, d))
			case !sameDestination(&d.Destination, &old.Destinations[n].Destination):
				edits = append(edits, Step{
					Op:   ipvs.Op{Command: ipvs.CmdSetDestination, Service: s.Service, Destination: d.Destination},
					Line: d.Line,
					undo: []ipvs.Op{{Command: ipvs.CmdSetDestination, Service: s.Service, Destination: old.Destinations[n].Destination}},
				})
			}
		}
		for k := range old.Destinations {
			d := &old.Destinations[k]
			if _, ok := newDests.find(destinationKeyOf(&d.Destination)); !ok {
				deletes = append(deletes, Step{
					Op:   ipvs.Op{Command: ipvs.CmdDelDestination, Service: s.Service, Destination: d.Destination},
					undo: []ipvs.Op{{Command: ipvs.CmdNewDestination, Service: s.Service, Destination: d.Destination}},
				})
			}
		}
	}
	for i := range from.Services {
		old := &from.Services[i]
		if inTo[i] {
			continue
		}
		// A Set the kernel dumps has each key once; of one made
		// otherwise, the index holds the last service of a key, and
		// any of them is in to if that one is.
		if j, _ := fromIndex.get(keyOf(&old.Service)); j != i && inTo[j] {
			continue
		}
		deletes = append(deletes, Step{
			Op:   ipvs.Op{Command: ipvs.CmdDelService, Service: old.Service},
			undo: recreate(nil, old),
		})
	}
	if len(edits) == 0 && len(deletes) == 0 {
		return &Plan{Steps: creates}
	}
	steps := make([]Step, 0, len(creates)+len(edits)+len(deletes))
	return &Plan{Steps: append(append(append(steps, creates...), edits...), deletes...)}
}

// Replace returns the plan of what ipvsadm -C followed by ipvsadm -R of to
// does to the table from, as Read returns it: a flush, then every service
// of to and its destinations, in to's order. Undoing the flush makes from
// again, services last dumped first: the kernel lists a hash bucket's
// services newest first, so that gives each bucket its order back, and it
// keeps the kernel's search of its deleted destinations short (it revives
// one it still holds, with its counters, and flushed the first dumped
// services' destinations first, so they are deepest in that list).
func Replace(from, to *Set) *Plan {
	var undo []ipvs.Op
	if n := from.writes(); n > 0 {
		// Sized, as it holds every service and destination of the
		// table: grown by append, it was most of a reload's
		// allocations.
		undo = make([]ipvs.Op, 0, n)
	}
	for i := len(from.Services) - 1; i >= 0; i-- {
		undo = recreate(undo, &from.Services[i])
	}
	steps := make([]Step, 1, 1+to.writes())
	steps[0] = Step{Op: ipvs.Op{Command: ipvs.CmdFlush}, undo: undo}
	for i := range to.Services {
		steps = appendCreate(steps, &to.Services[i])
	}
	return &Plan{Steps: steps}
}

// writes is how many writes create s: one per service and destination.
func (s *Set) writes() int {
	n := len(s.Services)
	for i := range s.Services {
		n += len(s.Services[i].Destinations)
	}
	return n
}

// appendCreate appends the steps that add s and its destinations. It
// writes them in place: a Step is some 280 bytes, and a load makes one
// per line.
func appendCreate(steps []Step, s *Service) []Step {
	n := len(steps)
	steps = slices.Grow(steps, 1+len(s.Destinations))[:n+1+len(s.Destinations)]
	st := &steps[n]
	st.Op = ipvs.Op{Command: ipvs.CmdNewService, Service: s.Service}
	st.Line, st.undo = s.Line, nil
	for k := range s.Destinations {
		setCreateDestination(&steps[n+1+k], &s.Service, &s.Destinations[k])
	}
	return steps
}

func createDestination(s *ipvs.Service, d *Destination) Step {
	var st Step
	setCreateDestination(&st, s, d)
	return st
}

func setCreateDestination(st *Step, s *ipvs.Service, d *Destination) {
	st.Op = ipvs.Op{Command: ipvs.CmdNewDestination, Service: *s, Destination: d.Destination}
	st.Line, st.undo = d.Line, nil
}

// recreate appends the writes that make s, read from the kernel, again:
// the service, then its destinations oldest first, since the kernel lists
// the newest first.
func recreate(ops []ipvs.Op, s *Service) []ipvs.Op {
	ops = append(ops, ipvs.Op{Command: ipvs.CmdNewService, Service: s.Service})
	for k := len(s.Destinations) - 1; k >= 0; k-- {
		ops = append(ops, ipvs.Op{Command: ipvs.CmdNewDestination, Service: s.Service, Destination: s.Destinations[k].Destination})
	}
	return ops
}

// Writes returns the plan's writes, in order.
func (p *Plan) Writes() []ipvs.Op {
	ops := make([]ipvs.Op, len(p.Steps))
	for i := range p.Steps {
		ops[i] = p.Steps[i].Op
	}
	return ops
}

// Apply makes the plan's writes on t, in batches, as one transaction: if
// the kernel refuses one, every write it made is undone, newest first, so
// that t holds what it held before, and Apply returns an *Error with the
// refused write's line and the kernel's message as ipvsadm words it. Its
// Rollback is nil if the undoing was complete. Counters of services and
// destinations that had to be removed and made again start from zero: the
// kernel has no way to set them. If a write is malformed (ipvs.ErrInvalid),
// nothing is written.
func (p *Plan) Apply(t Table) error {
	if len(p.Steps) == 0 {
		return nil
	}
	for i := range p.Steps {
		if err := p.Steps[i].Op.Validate(); err != nil {
			err = fmt.Errorf("op %d (%v): %w", i, p.Steps[i].Op.Command, err)
			return &Error{Text: "apply", Message: err.Error(), Status: 255, Err: err}
		}
	}
	// The writes stream from the steps: a copy of them all for the table
	// was a third of a 50,000-service load's memory. After a refusal no
	// more are written; those already on their way are reported, and
	// undone with the rest.
	done := make([]int, 0, len(p.Steps))
	failed := -1
	var failure error
	w := t.NewWriter(func(i int, err error) {
		if err != nil && failed < 0 {
			failed, failure = i, err
		} else if err == nil {
			done = append(done, i)
		}
	})
	var err error
	for i := 0; i < len(p.Steps) && failed < 0 && err == nil; i++ {
		err = w.Write(p.Steps[i].Op)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err == nil && failed < 0 {
		return nil
	}
	var undo []ipvs.Op
	for k := len(done) - 1; k >= 0; k-- {
		undo = p.Steps[done[k]].appendUndo(undo)
	}
	rollback := undoAll(t, undo)
	if failed < 0 {
		// The socket failed, not a write.
		return &Error{Text: "apply", Message: err.Error(), Status: 255, Err: err, Rollback: rollback}
	}
	step := &p.Steps[failed]
	return &Error{
		Line:     step.Line,
		Text:     string(compat.AppendRule(nil, step.Op)),
		Message:  compat.KernelMessage(step.Op.Command, failure),
		Status:   255,
		Err:      failure,
		Rollback: rollback,
	}
}

// Undo undoes every write of a plan that Apply made in full, newest first,
// going on past a write the kernel refuses (which a change made meanwhile
// by another process can cause) so that as much as can be is put back; it
// returns what could not be.
func (p *Plan) Undo(t Table) error {
	var undo []ipvs.Op
	for k := len(p.Steps) - 1; k >= 0; k-- {
		undo = p.Steps[k].appendUndo(undo)
	}
	return undoAll(t, undo)
}

// appendUndo appends the writes that undo the step.
func (s *Step) appendUndo(undo []ipvs.Op) []ipvs.Op {
	switch s.Op.Command {
	case ipvs.CmdNewService:
		return append(undo, ipvs.Op{Command: ipvs.CmdDelService, Service: s.Op.Service})
	case ipvs.CmdNewDestination:
		return append(undo, ipvs.Op{Command: ipvs.CmdDelDestination, Service: s.Op.Service, Destination: s.Op.Destination})
	}
	return append(undo, s.undo...)
}

// undoAll makes every write of undo, going on past a refused one so that as
// much as can be put back is; it returns what went wrong, if anything.
func undoAll(t Table, undo []ipvs.Op) error {
	if len(undo) == 0 {
		return nil
	}
	var errs []error
	fail := func(op ipvs.Op, err error) {
		errs = append(errs, fmt.Errorf("%s: %w", compat.AppendRule(nil, op), err))
	}
	// sent[i] is the position in undo of the Writer's i-th write: a
	// malformed one is not sent and has no index of the Writer.
	sent := make([]int, 0, len(undo))
	w := t.NewWriter(func(i int, err error) {
		if err != nil {
			fail(undo[sent[i]], err)
		}
	})
	var err error
	for i := 0; i < len(undo) && err == nil; i++ {
		switch err = w.Write(undo[i]); {
		case err == nil:
			sent = append(sent, i)
		case errors.Is(err, ipvs.ErrInvalid):
			fail(undo[i], err) // the rest are still sent
			err = nil
		}
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
