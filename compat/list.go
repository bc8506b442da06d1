package compat

import (
	"bufio"
	"strconv"
	"strings"
	"time"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// This file is ipvsadm 1.31's -L: the version line, the titles, the service
// and destination lines of every format, and --timeout and --daemon. Lines
// are built in a buffer that is reused, then written to a bufio.Writer: one
// listing makes no system call per line and no allocation per destination.

// listColumns is which columns a listing has; when several options ask,
// the first of --stats, --rate, --thresholds, --persistent-conn and
// --tun-info wins, as in ipvsadm.
type listColumns int

const (
	columnsDefault listColumns = iota
	columnsTunInfo
	columnsPersistentConn
	columnsThresholds
	columnsRate
	columnsStats
)

// listFormat is which listing the options ask for: ipvsadm's FMT_* bits.
type listFormat struct {
	columns listColumns
	numeric bool // -n: addresses and ports as numbers
	exact   bool // --exact: no K/M/G/T in print_largenum
	nosort  bool // --nosort: kernel order
	// persistentConn is --persistent-conn, which -c reads apart from the
	// columns: it adds the persistence-engine columns.
	persistentConn bool
}

// listFormatOf returns the listing the options ask for.
func listFormatOf(opts optionSet) listFormat {
	f := listFormat{
		numeric:        opts.has(optNumeric),
		exact:          opts.has(optExact),
		nosort:         opts.has(optNoSort),
		persistentConn: opts.has(optPersistentConn),
	}
	switch {
	case opts.has(optStats):
		f.columns = columnsStats
	case opts.has(optRate):
		f.columns = columnsRate
	case opts.has(optThresholds):
		f.columns = columnsThresholds
	case opts.has(optPersistentConn):
		f.columns = columnsPersistentConn
	case opts.has(optTunInfo):
		f.columns = columnsTunInfo
	}
	return f
}

// writeVersionHeader writes the line -L prints before it asks for the
// services: "IP Virtual Server version 1.2.1 (size=4096)".
func writeVersionHeader(w *bufio.Writer, info ipvs.Info) {
	b := make([]byte, 0, 64)
	b = append(b, "IP Virtual Server version "...)
	b = strconv.AppendUint(b, uint64(info.Version>>16&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(info.Version>>8&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(info.Version&0xff), 10)
	b = append(b, " (size="...)
	b = strconv.AppendInt(b, int64(int32(info.ConnectionTableSize)), 10)
	b = append(b, ")\n"...)
	w.Write(b)
}

// The title lines, with the trailing spaces of ipvsadm's "%-10s" columns.
const (
	titleStats = "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" +
		"  -> RemoteAddress:Port\n"
	titleRate = "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n" +
		"  -> RemoteAddress:Port\n"
	titleThresholds = "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n" +
		"  -> RemoteAddress:Port\n"
	titlePersistentConn = "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n" +
		"  -> RemoteAddress:Port\n"
	titleTunInfo = "Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
	titleDefault = "Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
)

var titles = [...]string{
	columnsDefault:        titleDefault,
	columnsTunInfo:        titleTunInfo,
	columnsPersistentConn: titlePersistentConn,
	columnsThresholds:     titleThresholds,
	columnsRate:           titleRate,
	columnsStats:          titleStats,
}

// writeServices writes the title lines, then each service and its
// destinations, sorting the table in place first unless f.nosort. It is -L
// of one service, and of a table in tests. The error is the first error met
// writing.
func writeServices(w *bufio.Writer, table []serviceTable, f listFormat, names Names) error {
	return writeServiceRows(w, tableRows(table, !f.nosort), f, names)
}

// writeServiceRows writes the title lines, then each service rows hands
// over and its destinations. The error is the rows' or the first met
// writing.
func writeServiceRows(w *bufio.Writer, rows rowSource, f listFormat, names Names) error {
	w.WriteString(titles[f.columns])
	l := newLister(w, names, f.numeric, f.exact)
	if err := rows(func(t *serviceTable) { l.writeService(t, f.columns) }); err != nil {
		return err
	}
	return writeErr(w)
}

// writeErr returns the first error w met: a bufio.Writer keeps it and
// returns it from every later Write, even of nothing.
func writeErr(w *bufio.Writer) error {
	_, err := w.Write(nil)
	return err
}

// A lister writes the lines of services and destinations.
type lister struct {
	w       *bufio.Writer
	names   Names
	numeric bool
	exact   bool
	line    []byte // the line being built
	svc     []byte // svc_name of the service being written
}

func newLister(w *bufio.Writer, names Names, numeric, exact bool) *lister {
	return &lister{
		w:       w,
		names:   names,
		numeric: numeric,
		exact:   exact,
		line:    make([]byte, 0, 256),
		svc:     make([]byte, 0, 128),
	}
}

// write writes the line b and keeps its buffer for the next.
func (l *lister) write(b []byte) {
	l.w.Write(b)
	l.line = b[:0]
}

// ipvsadm cuts the names of services and destinations that are not IPv6,
// in every listing but -S.
const (
	maxServiceName     = 33
	maxDestinationName = 28
)

// appendServiceName appends ipvsadm's svc_name. For -L it is "FWM  <mark>"
// (with " IPv6" for an IPv6 mark), or the protocol in four columns, a space
// and the address, cut at 33 bytes unless IPv6. For -S (rule) it is
// "-f <mark>" (with " -6"), or the protocol's option, a space and the
// address.
//
// ipvsadm 1.31 prints the mark with %d, so that marks from 2^31 up come out
// negative and their -S lines cannot be restored; this prints it unsigned,
// as upstream does since commit e61c8cdd (2020).
func (l *lister) appendServiceName(b []byte, s *ipvs.Service, af ipvs.Family, rule bool) []byte {
	if s.FirewallMark != 0 {
		if rule {
			b = append(b, "-f "...)
		} else {
			b = append(b, "FWM  "...)
		}
		b = strconv.AppendUint(b, uint64(s.FirewallMark), 10)
		if af == ipvs.IPv6 {
			if rule {
				b = append(b, " -6"...)
			} else {
				b = append(b, " IPv6"...)
			}
		}
		return b
	}
	u := inetAddrOf(s.Address)
	if rule {
		b = append(b, serviceOption(s.Protocol)...)
		b = append(b, ' ')
		return appendAddrPort(b, af, &u, s.Port, s.Protocol, l.numeric, l.names)
	}
	start := len(b)
	b = appendStringLeft(b, protocolName(s.Protocol), 4)
	b = append(b, ' ')
	b = appendAddrPort(b, af, &u, s.Port, s.Protocol, l.numeric, l.names)
	if af != ipvs.IPv6 && len(b)-start > maxServiceName {
		b = b[:start+maxServiceName]
	}
	return b
}

// protocolName is ipvsadm's protocol_name.
func protocolName(p ipvs.Protocol) string {
	switch p {
	case ipvs.TCP, ipvs.UDP, ipvs.SCTP:
		return p.String()
	}
	return "?"
}

// serviceOption is the option -S writes for a service of protocol p.
func serviceOption(p ipvs.Protocol) string {
	switch p {
	case ipvs.TCP:
		return "-t"
	case ipvs.UDP:
		return "-u"
	case ipvs.SCTP:
		return "--sctp-service"
	}
	return "--xxx-service"
}

// appendDestinationName appends a destination's address and port in the
// service's protocol, cut at 28 bytes unless IPv6 if cut.
func (l *lister) appendDestinationName(b []byte, d *ipvs.Destination, af ipvs.Family, proto ipvs.Protocol, cut bool) []byte {
	u := inetAddrOf(d.Address)
	start := len(b)
	b = appendAddrPort(b, af, &u, d.Port, proto, l.numeric, l.names)
	if cut && af != ipvs.IPv6 && len(b)-start > maxDestinationName {
		b = b[:start+maxDestinationName]
	}
	return b
}

const schedFlags = ipvs.FlagSched1 | ipvs.FlagSched2 | ipvs.FlagSched3

// writeService writes the service line and the destination lines of t in
// the given columns.
func (l *lister) writeService(t *serviceTable, cols listColumns) {
	s := &t.service.Service
	af := serviceFamily(s)
	l.svc = l.appendServiceName(l.svc[:0], s, af, false)
	b := l.line[:0]
	switch cols {
	case columnsStats:
		b = padField(append(b, l.svc...), 0, 33) // "%-33s"
		st := &t.service.Stats
		b = appendLargenum(b, st.Connections, l.exact)
		b = appendLargenum(b, st.PacketsIn, l.exact)
		b = appendLargenum(b, st.PacketsOut, l.exact)
		b = appendLargenum(b, st.BytesIn, l.exact)
		b = appendLargenum(b, st.BytesOut, l.exact)
	case columnsRate:
		b = padField(append(b, l.svc...), 0, 33)
		st := &t.service.Stats
		b = appendLargenum(b, st.ConnectionRate, l.exact)
		b = appendLargenum(b, st.PacketRateIn, l.exact)
		b = appendLargenum(b, st.PacketRateOut, l.exact)
		b = appendLargenum(b, st.ByteRateIn, l.exact)
		b = appendLargenum(b, st.ByteRateOut, l.exact)
	default:
		sched := schedulerName(s.Scheduler)
		b = append(b, l.svc...)
		b = append(b, ' ')
		b = append(b, sched...)
		if s.Flags&schedFlags != 0 {
			b = append(b, " ("...)
			b = appendSchedFlags(b, sched, s.Flags)
			b = append(b, ')')
		}
		if s.Flags&ipvs.FlagPersistent != 0 {
			b = append(b, " persistent "...)
			b = strconv.AppendUint(b, uint64(s.Timeout), 10)
			b = appendNetmask(b, s, af, " mask ")
			if pe := engineName(s.PersistenceEngine); pe != "" {
				b = append(b, " pe "...)
				b = append(b, pe...)
			}
		}
		if s.Flags&ipvs.FlagOnePacket != 0 {
			b = append(b, " ops"...)
		}
	}
	l.write(append(b, '\n'))

	proto := serviceProtocol(s)
	for i := range t.dests {
		l.writeDestination(&t.dests[i], af, proto, cols)
	}
}

// writeDestination writes the line of a destination of a service of family
// svcAF and protocol proto.
//
// The connection and packet counters and the rates are cut to 32 bits:
// ipvsadm 1.31 reads the destination's 64-bit statistics with its 32-bit
// parser (all but the byte counters). The service line has them whole.
func (l *lister) writeDestination(d *ipvs.DestinationExtended, svcAF ipvs.Family, proto ipvs.Protocol, cols listColumns) {
	af := destinationFamily(&d.Destination, svcAF)
	b := append(l.line[:0], "  -> "...)
	start := len(b)
	b = l.appendDestinationName(b, &d.Destination, af, proto, true)
	b = padField(b, start, 28) // "%-28s"
	st := &d.Stats
	switch cols {
	case columnsStats:
		b = appendLargenum(b, uint64(uint32(st.Connections)), l.exact)
		b = appendLargenum(b, uint64(uint32(st.PacketsIn)), l.exact)
		b = appendLargenum(b, uint64(uint32(st.PacketsOut)), l.exact)
		b = appendLargenum(b, st.BytesIn, l.exact)
		b = appendLargenum(b, st.BytesOut, l.exact)
	case columnsRate:
		b = append(b, ' ')
		b = appendUintRight(b, uint64(uint32(st.ConnectionRate)), 8)
		b = append(b, ' ')
		b = appendUintRight(b, uint64(uint32(st.PacketRateIn)), 8)
		b = append(b, ' ')
		b = appendUintRight(b, uint64(uint32(st.PacketRateOut)), 8)
		b = appendLargenum(b, uint64(uint32(st.ByteRateIn)), l.exact)
		b = appendLargenum(b, uint64(uint32(st.ByteRateOut)), l.exact)
	case columnsThresholds:
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(d.UpperThreshold), 10)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(d.LowerThreshold), 10)
		b = appendConnections(b, d)
	case columnsPersistentConn:
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(uint32(d.Weight)), 9)
		b = append(b, ' ')
		b = appendUintLeft(b, uint64(d.PersistentConnections), 11)
		b = appendConnections(b, d)
	case columnsTunInfo:
		b = append(b, ' ')
		b = appendStringLeft(b, forwardingName(d.Forwarding), 7)
		b = append(b, ' ')
		b = appendTunnelInfo(b, &d.Destination)
		b = append(b, ' ')
		b = appendIntLeft(b, int64(d.Weight), 6)
		b = appendConnections(b, d)
	default:
		b = append(b, ' ')
		b = appendStringLeft(b, forwardingName(d.Forwarding), 7)
		b = append(b, ' ')
		b = appendIntLeft(b, int64(d.Weight), 6)
		b = appendConnections(b, d)
	}
	l.write(append(b, '\n'))
}

// appendConnections appends the ActiveConn and InActConn columns, both
// "%-10u", so that lines end in spaces.
func appendConnections(b []byte, d *ipvs.DestinationExtended) []byte {
	b = append(b, ' ')
	b = appendUintLeft(b, uint64(d.ActiveConnections), 10)
	b = append(b, ' ')
	return appendUintLeft(b, uint64(d.InactiveConnections), 10)
}

// forwardingName is ipvsadm's fwd_name. For any other method (Bypass, or
// a vendor kernel's) it returns NULL, which printf prints as "(null)".
func forwardingName(f ipvs.Forwarding) string {
	switch f & fwdMask {
	case ipvs.Masquerade:
		return "Masq"
	case ipvs.Local:
		return "Local"
	case ipvs.Tunnel:
		return "Tunnel"
	case ipvs.Route:
		return "Route"
	}
	return "(null)"
}

// fwdMask is the kernel's IP_VS_CONN_F_FWD_MASK.
const fwdMask = 0x7

// maxTunnelInfo is the longest tunnel information: ipvsadm formats it with
// snprintf into 16 bytes.
const maxTunnelInfo = 15

// appendTunnelInfo appends the TunnelInfo column, "%-13s": "ipip",
// "gue:<port>:<flags>" or "gre:<flags>" for a tunnel, "n/a" otherwise.
func appendTunnelInfo(b []byte, d *ipvs.Destination) []byte {
	start := len(b)
	switch {
	case d.Forwarding&fwdMask != ipvs.Tunnel:
		b = append(b, "n/a"...)
	case d.TunnelType == ipvs.IPIP:
		b = append(b, "ipip"...)
	case d.TunnelType == ipvs.GUE:
		b = append(b, "gue:"...)
		b = strconv.AppendUint(b, uint64(d.TunnelPort), 10)
		b = append(b, ':')
		b = append(b, tunnelFlagsName(d.TunnelFlags)...)
	case d.TunnelType == ipvs.GRE:
		b = append(b, "gre:"...)
		b = append(b, tunnelFlagsName(d.TunnelFlags)...)
	default:
		b = append(b, "n/a"...)
	}
	if len(b)-start > maxTunnelInfo {
		b = b[:start+maxTunnelInfo]
	}
	return padField(b, start, 13)
}

// tunnelFlagsName is ipvsadm's tunflags[flags]. ipvsadm indexes the table
// with the kernel's value unchecked; past it, 1.31 was seen printing
// "(null)".
func tunnelFlagsName(f ipvs.TunnelFlags) string {
	switch f {
	case 0:
		return "-c"
	case 1:
		return "+c"
	case 2:
		return "r+c"
	}
	return "(null)"
}

// appendSchedFlags appends the scheduler flags, comma-separated: for sh and
// mh their names of the first two flags (the third is never shown), for any
// other scheduler flag-1, flag-2 and flag-3. It may append nothing.
func appendSchedFlags(b []byte, sched string, flags ipvs.ServiceFlags) []byte {
	names := [3]string{"flag-1", "flag-2", "flag-3"}
	switch sched {
	case "sh":
		names = [3]string{"sh-fallback", "sh-port", ""}
	case "mh":
		names = [3]string{"mh-fallback", "mh-port", ""}
	}
	start := len(b)
	for i, bit := range [3]ipvs.ServiceFlags{ipvs.FlagSched1, ipvs.FlagSched2, ipvs.FlagSched3} {
		if flags&bit == 0 || names[i] == "" {
			continue
		}
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, names[i]...)
	}
	return b
}

// appendNetmask appends prefix and the persistence netmask where it is not
// the whole address: an IPv4 mask other than 255.255.255.255 in dotted
// form (inet_ntoa), an IPv6 prefix length other than 128 (%i). A service of
// another family has none.
func appendNetmask(b []byte, s *ipvs.Service, af ipvs.Family, prefix string) []byte {
	switch af {
	case ipvs.IPv4:
		if s.Netmask != 0xffffffff {
			m := uint32(s.Netmask)
			b = append(b, prefix...)
			b = appendIPv4(b, []byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
		}
	case ipvs.IPv6:
		n := s.Netmask
		if n == 0 {
			n = 128 // the model's zero; the kernel always reports one
		}
		if n != 128 {
			b = append(b, prefix...)
			b = strconv.AppendInt(b, int64(int32(n)), 10)
		}
	}
	return b
}

// serviceFamily is the family of a service, resolving the model's zero as
// package ipvs does.
func serviceFamily(s *ipvs.Service) ipvs.Family {
	switch {
	case s.Family != 0:
		return s.Family
	case s.FirewallMark == 0 && s.Address.IsValid() && !s.Address.Is4():
		return ipvs.IPv6
	}
	return ipvs.IPv4
}

// serviceProtocol is the protocol libipvs reports: none for a
// firewall-mark service, whose destinations' ports are then decimal.
func serviceProtocol(s *ipvs.Service) ipvs.Protocol {
	if s.FirewallMark != 0 {
		return 0
	}
	return s.Protocol
}

// destinationFamily is the family of a destination: its own, or that of
// its address, or else the service's, as libipvs assumes on kernels that do
// not report it.
func destinationFamily(d *ipvs.Destination, svcAF ipvs.Family) ipvs.Family {
	switch {
	case d.Family != 0:
		return d.Family
	case d.Address.Is4():
		return ipvs.IPv4
	case d.Address.IsValid():
		return ipvs.IPv6
	}
	return svcAF
}

// The C strings libipvs copies names into, with room for the NUL.
const (
	maxSchedulerName = 15 // strncpy(sched_name, ..., IP_VS_SCHEDNAME_MAXLEN - 1)
	maxEngineName    = 16 // strncpy(pe_name, ..., IP_VS_PENAME_MAXLEN)
	maxInterfaceName = 15 // strncpy(mcast_ifn, ..., IP_VS_IFNAME_MAXLEN - 1)
)

func schedulerName(s string) string { return cString(s, maxSchedulerName) }
func engineName(s string) string    { return cString(s, maxEngineName) }

// cString is s as C sees it after strncpy(dst, s, max): cut at a NUL and
// at max bytes.
func cString(s string, max int) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// writeTimeouts writes --timeout: "Timeout (tcp tcpfin udp): 900 120 300".
func writeTimeouts(w *bufio.Writer, t ipvs.Timeouts) {
	b := make([]byte, 0, 64)
	b = append(b, "Timeout (tcp tcpfin udp):"...)
	for _, d := range [3]time.Duration{t.TCP, t.TCPFin, t.UDP} {
		b = append(b, ' ')
		// The kernel's unsigned seconds, printed with %d.
		b = strconv.AppendInt(b, int64(int32(uint32(d/time.Second))), 10)
	}
	w.Write(append(b, '\n'))
}

// writeDaemons writes --daemon: a line for each running daemon, "master
// sync daemon (mcast=eth0, syncid=10, maxlen=1472, group=224.0.0.81,
// port=8848, ttl=1)", with each of maxlen, group, port and ttl only where
// the kernel reported it (kernels before 4.3 report none).
func writeDaemons(w *bufio.Writer, daemons []ipvs.Daemon) {
	b := make([]byte, 0, 128)
	for i := range daemons {
		d := &daemons[i]
		switch {
		case d.State&ipvs.Master != 0:
			b = append(b[:0], "master"...)
		case d.State&ipvs.Backup != 0:
			b = append(b[:0], "backup"...)
		default:
			continue
		}
		b = append(b, " sync daemon (mcast="...)
		b = append(b, cString(d.Interface, maxInterfaceName)...)
		b = append(b, ", syncid="...)
		b = strconv.AppendInt(b, int64(int32(d.SyncID)), 10)
		if d.MaxLength != 0 {
			b = append(b, ", maxlen="...)
			b = strconv.AppendUint(b, uint64(d.MaxLength), 10)
		}
		if d.Group.IsValid() {
			af := ipvs.IPv6
			if d.Group.Is4() {
				af = ipvs.IPv4
			}
			u := inetAddrOf(d.Group)
			b = append(b, ", group="...)
			b = appendInetNtop(b, af, &u)
		}
		if d.Port != 0 {
			b = append(b, ", port="...)
			b = strconv.AppendUint(b, uint64(d.Port), 10)
		}
		if d.TTL != 0 {
			b = append(b, ", ttl="...)
			b = strconv.AppendUint(b, uint64(d.TTL), 10)
		}
		w.Write(append(b, ")\n"...))
	}
}
