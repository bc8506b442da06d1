package compat

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// This file is what package rules takes from ipvsadm 1.31: the grammar of a
// restore line, the words of a kernel error, and the -S line format, so that
// a rules file is read, reported on and written exactly as ipvsadm would.

// A Failure is how ipvsadm ends on a command line it refuses: the text it
// prints on standard error, and its exit status (2 for its checks, 255 for
// popt's errors and the "Try" line).
type Failure struct {
	Status  int
	Message string // as printed, with its newline
}

func (f *Failure) Error() string { return strings.TrimSuffix(f.Message, "\n") }

// ErrNotRule is the error of a valid command line that does not write
// services or destinations: -L, -S, -Z, --set, the daemons, -R, -h, -v.
var ErrNotRule = errors.New("not a command that writes services or destinations")

// ParseRule parses a restore line, split by SplitLine, with ipvsadm's
// grammar and defaults, into the write it makes: CmdNewService (-A),
// CmdSetService (-E), CmdDelService (-D), CmdNewDestination (-a),
// CmdSetDestination (-e), CmdDelDestination (-d) or CmdFlush (-C). A line
// ipvsadm refuses is a *Failure; another command is ErrNotRule.
func ParseRule(tokens []string, names Names) (ipvs.Op, error) {
	// A restore parses every line: the tokens are read where they are and
	// the parser stays on the stack, so that a line allocates nothing here.
	p := parser{names: names}
	if ex := p.parse("ipvsadm", tokens); ex != nil {
		if ex.status == 0 {
			return ipvs.Op{}, ErrNotRule // -h or -v
		}
		return ipvs.Op{}, &Failure{Status: ex.status, Message: ex.stderr}
	}
	req := &p.req
	op := ipvs.Op{Service: req.service, Destination: req.destination}
	switch req.command {
	case cmdAddService:
		op.Command = ipvs.CmdNewService
	case cmdEditService:
		op.Command = ipvs.CmdSetService
	case cmdDeleteService:
		op.Command = ipvs.CmdDelService
	case cmdAddServer:
		op.Command = ipvs.CmdNewDestination
	case cmdEditServer:
		op.Command = ipvs.CmdSetDestination
	case cmdDeleteServer:
		op.Command = ipvs.CmdDelDestination
	case cmdFlush:
		op.Command = ipvs.CmdFlush
	default:
		return ipvs.Op{}, ErrNotRule
	}
	return op, nil
}

// KernelMessage is how ipvsadm words the kernel's refusal err of a write
// with command cmd: "Service already exists", "No such destination", ...
func KernelMessage(cmd ipvs.Command, err error) string {
	fn := funcGeneric
	switch cmd {
	case ipvs.CmdNewService:
		fn = funcAddService
	case ipvs.CmdSetService:
		fn = funcUpdateService
	case ipvs.CmdDelService:
		fn = funcDelService
	case ipvs.CmdNewDestination:
		fn = funcAddDest
	case ipvs.CmdSetDestination:
		fn = funcUpdateDest
	case ipvs.CmdDelDestination:
		fn = funcDelDest
	case ipvs.CmdZero:
		fn = funcZeroService
	case ipvs.CmdNewDaemon:
		fn = funcStartDaemon
	case ipvs.CmdDelDaemon:
		fn = funcStopDaemon
	}
	return kernelMessage(fn, err)
}

// AppendRule appends op as the ipvsadm command line that makes it, numeric,
// in -S's form: "-A -t 10.0.0.1:80 -s rr", "-e -t 10.0.0.1:80 -r
// 10.0.1.1:80 -m -w 2", "-D -f 1", "-d ... -r ...", "-C".
func AppendRule(b []byte, op ipvs.Op) []byte {
	option, ok := ruleOptions[op.Command]
	if !ok {
		return append(b, "# "+op.Command.String()...)
	}
	b = append(b, option...)
	if op.Command == ipvs.CmdFlush {
		return b
	}
	l := lister{numeric: true}
	s := &op.Service
	svc := l.appendServiceName(nil, s, serviceFamily(s), true)
	switch op.Command {
	case ipvs.CmdNewService, ipvs.CmdSetService:
		return appendUnsaved(appendServiceRule(b, svc, s), s)
	case ipvs.CmdNewDestination, ipvs.CmdSetDestination:
		b = l.appendDestinationRule(b, svc, s, &op.Destination)
		if d := &op.Destination; d.UpperThreshold != 0 || d.LowerThreshold != 0 {
			b = append(b, " -x "...)
			b = strconv.AppendUint(b, uint64(d.UpperThreshold), 10)
			b = append(b, " -y "...)
			b = strconv.AppendUint(b, uint64(d.LowerThreshold), 10)
		}
		return b
	case ipvs.CmdDelDestination:
		b = append(append(b, svc...), " -r "...)
		return l.appendDestinationName(b, &op.Destination, destinationFamily(&op.Destination, serviceFamily(s)), serviceProtocol(s), false)
	}
	return append(b, svc...) // CmdDelService
}

// appendUnsaved appends what -S leaves out of a service's line and a write
// of it has: the netmask of a service that is not persistent, and the
// scheduler flags that have no name for its scheduler (the third of sh and
// mh), by their generic names, which ipvsadm takes for any scheduler.
func appendUnsaved(b []byte, s *ipvs.Service) []byte {
	// First the flag, as the line ends with -S's " -b " list.
	if sched := schedulerName(s.Scheduler); (sched == "sh" || sched == "mh") && s.Flags&ipvs.FlagSched3 != 0 {
		if s.Flags&(ipvs.FlagSched1|ipvs.FlagSched2) != 0 {
			b = append(b, ',')
		}
		b = append(b, "flag-3"...)
	}
	if s.Flags&ipvs.FlagPersistent == 0 {
		b = appendNetmask(b, s, serviceFamily(s), " -M ")
	}
	return b
}

// ruleOptions are the command options of the writes, with the space after.
var ruleOptions = map[ipvs.Command]string{
	ipvs.CmdNewService:     "-A ",
	ipvs.CmdSetService:     "-E ",
	ipvs.CmdDelService:     "-D ",
	ipvs.CmdNewDestination: "-a ",
	ipvs.CmdSetDestination: "-e ",
	ipvs.CmdDelDestination: "-d ",
	ipvs.CmdFlush:          "-C",
}

// WriteSave writes services and their destinations (dests[i] those of
// services[i]) as ipvsadm -S [-n] does, sorted as it sorts them.
func WriteSave(w io.Writer, services []ipvs.Service, dests [][]ipvs.Destination, numeric bool, names Names) error {
	table := make([]serviceTable, len(services))
	for i := range services {
		table[i].service.Service = services[i]
		table[i].dests = make([]ipvs.DestinationExtended, len(dests[i]))
		for j := range dests[i] {
			table[i].dests[j].Destination = dests[i][j]
		}
	}
	bw := bufio.NewWriter(w)
	if err := writeSave(bw, table, numeric, names); err != nil {
		return err
	}
	return bw.Flush()
}
