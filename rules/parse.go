package rules

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// An Error is a line of the input that cannot be restored, or a write the
// kernel refused. Message and Status are what ipvsadm prints for it and
// exits with; Err is the cause: a *compat.Failure, compat.ErrNotRule, or an
// *ipvs.Error with the kernel's errno.
type Error struct {
	Line    int    // counting from 1; 0 when no line asked for the write
	Text    string // the line, or the write as a command line
	Message string // ipvsadm's words, without a newline
	Status  int    // ipvsadm's exit status for it
	Err     error
	// Rollback, for a refused write of Plan.Apply, is nil when every
	// write made before was undone, or else what could not be.
	Rollback error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s", e.Text, e.Message)
	if e.Line != 0 {
		s = fmt.Sprintf("line %d: %s", e.Line, s)
	}
	if e.Rollback != nil {
		s += "; rolling back failed: " + e.Rollback.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// maxLine bounds a line: ipvsadm reads tokens of up to 4096 bytes, and
// no valid line comes near 64 KiB.
const maxLine = 64 << 10

// Parse reads restore input, the lines ipvsadm -R takes after the
// ipvsadm-restore wrapper has dropped those that begin with '#', and returns
// the Set they build from an empty table. Blank lines are skipped; the word
// "ipvsadm" is dropped wherever it stands, as -R does. Lines are -A, -E, -D,
// -a, -e, -d and -C; every other command, and every line ipvsadm would
// refuse, is an *Error naming the line. So is a line the kernel is certain
// to refuse given the lines before it: a service added twice, a destination
// of a service that does not exist, and the like.
//
// names resolves host and service names as ipvsadm does; nil allows only
// numeric addresses and ports.
func Parse(r io.Reader, names compat.Names) (*Set, error) {
	if names == nil {
		names = compat.FileNames(nil, nil)
	}
	b := builder{set: &Set{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			continue
		}
		tokens := compat.SplitLine(text)
		if len(tokens) == 0 {
			continue
		}
		op, err := compat.ParseRule(tokens, names)
		if err != nil {
			return nil, lineError(line, text, err)
		}
		if err := b.apply(op, line); err != nil {
			return nil, lineError(line, text, &ipvs.Error{Command: op.Command, Err: err})
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &Error{Line: line + 1, Text: "", Message: "line too long", Status: 2, Err: err}
		}
		return nil, err
	}
	return b.set, nil
}

func lineError(line int, text string, err error) *Error {
	e := &Error{Line: line, Text: strings.TrimRight(text, " \t\r"), Err: err}
	var failure *compat.Failure
	var kernel *ipvs.Error
	switch {
	case errors.As(err, &failure):
		e.Message, e.Status = failure.Error(), failure.Status
	case errors.As(err, &kernel):
		e.Message, e.Status = compat.KernelMessage(kernel.Command, kernel.Err), 255
	default:
		e.Message, e.Status = "only -A, -E, -D, -a, -e, -d and -C lines can be restored as a transaction", 2
	}
	return e
}

// A builder makes a Set from writes, refusing those the kernel would
// refuse for the state of the table, with the kernel's errno.
type builder struct {
	set      *Set
	services map[serviceKey]int
}

func (b *builder) apply(op ipvs.Op, line int) error {
	if b.services == nil {
		b.services = make(map[serviceKey]int)
	}
	set := b.set
	if op.Command == ipvs.CmdFlush {
		set.Services = set.Services[:0]
		clear(b.services)
		return nil
	}
	key := keyOf(&op.Service)
	i, exists := b.services[key]
	switch op.Command {
	case ipvs.CmdNewService:
		if exists {
			return syscall.EEXIST
		}
		b.services[key] = len(set.Services)
		set.Services = append(set.Services, Service{Service: op.Service, Line: line})
		return nil
	case ipvs.CmdSetService:
		if !exists {
			return syscall.ESRCH
		}
		set.Services[i].Service, set.Services[i].Line = op.Service, line
		return nil
	case ipvs.CmdDelService:
		if !exists {
			return syscall.ESRCH
		}
		set.Services = append(set.Services[:i], set.Services[i+1:]...)
		delete(b.services, key)
		for j := i; j < len(set.Services); j++ {
			b.services[keyOf(&set.Services[j].Service)] = j
		}
		return nil
	}
	if !exists {
		return syscall.ESRCH
	}
	if (op.Command == ipvs.CmdNewDestination || op.Command == ipvs.CmdSetDestination) &&
		op.Destination.LowerThreshold > op.Destination.UpperThreshold {
		// ip_vs_add_dest and ip_vs_edit_dest compare the two as given,
		// so a lower threshold over no upper one (0) is refused too.
		return syscall.ERANGE
	}
	svc := &set.Services[i]
	j := -1
	for k := range svc.Destinations {
		if destinationKeyOf(&svc.Destinations[k].Destination) == destinationKeyOf(&op.Destination) {
			j = k
			break
		}
	}
	switch op.Command {
	case ipvs.CmdNewDestination:
		if j >= 0 {
			return syscall.EEXIST
		}
		svc.Destinations = append(svc.Destinations, Destination{Destination: op.Destination, Line: line})
	case ipvs.CmdSetDestination:
		if j < 0 {
			return syscall.ENOENT
		}
		svc.Destinations[j] = Destination{Destination: op.Destination, Line: line}
	case ipvs.CmdDelDestination:
		if j < 0 {
			return syscall.ENOENT
		}
		svc.Destinations = append(svc.Destinations[:j], svc.Destinations[j+1:]...)
	}
	return nil
}
