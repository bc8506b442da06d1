package compat

import (
	"bufio"
	"strconv"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// This file is ipvsadm 1.31's -S: the table as the -A and -a command lines
// that rebuild it, services sorted as -L sorts them.

// writeSave writes -S of a table in memory: for each service its -A line
// and an -a line for each destination, sorting the table in place first (-S
// has no --nosort). Without numeric, addresses and ports are names, which
// may not restore. The error is the first error met writing.
func writeSave(w *bufio.Writer, table []serviceTable, numeric bool, names Names) error {
	return writeSaveRows(w, tableRows(table, true), numeric, names)
}

// writeSaveRows writes -S of the services rows hands over, in that order.
// The error is the rows' or the first met writing.
func writeSaveRows(w *bufio.Writer, rows rowSource, numeric bool, names Names) error {
	l := newLister(w, names, numeric, false)
	if err := rows(l.writeRules); err != nil {
		return err
	}
	return writeErr(w)
}

// writeRules writes the lines of a service and its destinations:
//
//	-A <svc> -s <sched>[ -p <timeout>[ -M <mask>]][ --pe <pe>][ -o][ -b <flags>]
//	-a <svc> -r <dest> <fwd> -w <weight>[ <tunnel options>]
//
// Unlike -L, the persistence engine is written even for a service that is
// not persistent, and " -b " is written whenever a scheduler flag is set,
// even if none of them has a name for the scheduler (sh and mh name only
// two), leaving the option without its argument.
func (l *lister) writeRules(t *serviceTable) {
	s := &t.service.Service
	af := serviceFamily(s)
	l.svc = l.appendServiceName(l.svc[:0], s, af, true)
	b := append(l.line[:0], "-A "...)
	l.write(append(appendServiceRule(b, l.svc, s), '\n'))
	for i := range t.dests {
		b := append(l.line[:0], "-a "...)
		l.write(append(l.appendDestinationRule(b, l.svc, s, &t.dests[i].Destination), '\n'))
	}
}

// appendServiceRule appends the arguments of an -A line after the command:
// svc, the service's name as a rule gives it, then the scheduler and the
// options that differ from the defaults.
func appendServiceRule(b, svc []byte, s *ipvs.Service) []byte {
	sched := schedulerName(s.Scheduler)
	b = append(b, svc...)
	b = append(b, " -s "...)
	b = append(b, sched...)
	if s.Flags&ipvs.FlagPersistent != 0 {
		b = append(b, " -p "...)
		b = strconv.AppendUint(b, uint64(s.Timeout), 10)
		b = appendNetmask(b, s, serviceFamily(s), " -M ")
	}
	if pe := engineName(s.PersistenceEngine); pe != "" {
		b = append(b, " --pe "...)
		b = append(b, pe...)
	}
	if s.Flags&ipvs.FlagOnePacket != 0 {
		b = append(b, " -o"...)
	}
	if s.Flags&schedFlags != 0 {
		b = append(b, " -b "...)
		b = appendSchedFlags(b, sched, s.Flags)
	}
	return b
}

// appendDestinationRule appends the arguments of an -a line after the
// command: svc, the name of its service s, then the destination d.
func (l *lister) appendDestinationRule(b, svc []byte, s *ipvs.Service, d *ipvs.Destination) []byte {
	b = append(b, svc...)
	b = append(b, " -r "...)
	b = l.appendDestinationName(b, d, destinationFamily(d, serviceFamily(s)), serviceProtocol(s), false)
	b = append(b, ' ')
	b = append(b, forwardingOption(d.Forwarding)...)
	b = append(b, " -w "...)
	b = strconv.AppendInt(b, int64(d.Weight), 10)
	if d.Forwarding&fwdMask == ipvs.Tunnel {
		b = appendTunnelOptions(b, d)
	}
	return b
}

// forwardingOption is ipvsadm's fwd_switch; Local is written as -g. For any
// other method it returns NULL, which printf prints as "(null)" (and -R
// then refuses the line).
func forwardingOption(f ipvs.Forwarding) string {
	switch f & fwdMask {
	case ipvs.Masquerade:
		return "-m"
	case ipvs.Tunnel:
		return "-i"
	case ipvs.Local, ipvs.Route:
		return "-g"
	}
	return "(null)"
}

// appendTunnelOptions appends the options of a tunnel destination. ipip is
// always written, even by kernels that know no tunnel types; an unknown type
// gets no options.
func appendTunnelOptions(b []byte, d *ipvs.Destination) []byte {
	switch d.TunnelType {
	case ipvs.IPIP:
		b = append(b, " --tun-type ipip"...)
	case ipvs.GUE:
		b = append(b, " --tun-type gue --tun-port "...)
		b = strconv.AppendUint(b, uint64(d.TunnelPort), 10)
		b = append(b, ' ')
		b = append(b, tunnelFlagsOption(d.TunnelFlags)...)
	case ipvs.GRE:
		b = append(b, " --tun-type gre "...)
		b = append(b, tunnelFlagsOption(d.TunnelFlags)...)
	}
	return b
}

// tunnelFlagsOption is the option of ipvsadm's tun_flags_opts[flags]. For
// flags past the table ipvsadm 1.31 crashes (it prints a pointer read from
// beyond the array); this writes "(null)", as -L --tun-info shows them.
func tunnelFlagsOption(f ipvs.TunnelFlags) string {
	switch f {
	case 0:
		return "--tun-nocsum"
	case 1:
		return "--tun-csum"
	case 2:
		return "--tun-remcsum"
	}
	return "(null)"
}
