package compat

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// The sample of §10.2 of the reference: the kernel state behind its golden
// outputs, in the order its fake kernel dumped it, and the /etc/hosts and
// /etc/services the non-numeric outputs were made with (derived from them:
// the reference names the files' effect, not their text).

const sampleHosts = `127.0.0.1 localhost
192.0.2.10 www.example.com www
192.0.2.11 web1.example.com web1
192.0.2.12 web2.example.com
203.0.113.30 a-very-long-host-name-for-truncation-tests.example.org
203.0.113.31 mid-length-name.example.org
198.51.100.20 db.example.net
2001:db8::10 v6www.example.com
2001:db8::11 v6web1.example.com
2001:db8:ffff:ffff:ffff:ffff:ffff:fff1 v6long-name-for-width-tests.example.com
`

const sampleServices = `# Network services, Internet style
domain		53/tcp
domain		53/udp
http		80/tcp		www		# WorldWideWeb HTTP
https		443/tcp
sip		5060/tcp
sip		5060/udp
http-alt	8080/tcp	webcache	# WWW caching service
`

func sampleNames() Names { return FileNames([]byte(sampleHosts), []byte(sampleServices)) }

var sampleInfo = ipvs.Info{Version: 0x010201, ConnectionTableSize: 4096}

var addr = netip.MustParseAddr

// stats builds Stats in the reference's order: conns, inpkts, outpkts,
// inbytes, outbytes, cps, inpps, outpps, inbps, outbps.
func stats(v ...uint64) ipvs.Stats {
	return ipvs.Stats{
		Connections: v[0], PacketsIn: v[1], PacketsOut: v[2], BytesIn: v[3], BytesOut: v[4],
		ConnectionRate: v[5], PacketRateIn: v[6], PacketRateOut: v[7], ByteRateIn: v[8], ByteRateOut: v[9],
	}
}

func sampleTable() []serviceTable {
	return []serviceTable{
		{
			service: ipvs.ServiceExtended{
				Service: ipvs.Service{Family: ipvs.IPv4, Protocol: ipvs.TCP, Address: addr("192.0.2.10"), Port: 80,
					Scheduler: "wrr", Netmask: 0xffffffff},
				Stats: stats(1234, 56789, 45678, 12345678, 987654321, 3, 40, 35, 2400, 51000),
			},
			dests: []ipvs.DestinationExtended{
				{
					Destination: ipvs.Destination{Family: ipvs.IPv4, Address: addr("192.0.2.11"), Port: 8080,
						Forwarding: ipvs.Masquerade, Weight: 3, UpperThreshold: 1000, LowerThreshold: 800},
					ActiveConnections: 12, InactiveConnections: 40,
					Stats: stats(600, 30000, 25000, 6000000, 500000000, 1, 20, 17, 1200, 25000),
				},
				{
					Destination: ipvs.Destination{Family: ipvs.IPv4, Address: addr("192.0.2.12"), Port: 80,
						Forwarding: ipvs.Route, Weight: 1},
					ActiveConnections: 2, InactiveConnections: 7,
					Stats: stats(634, 26789, 20678, 6345678, 487654321, 2, 20, 18, 1200, 26000),
				},
			},
		},
		{
			service: ipvs.ServiceExtended{Service: ipvs.Service{Family: ipvs.IPv4, Protocol: ipvs.UDP,
				Address: addr("192.0.2.10"), Port: 53, Scheduler: "rr",
				Flags: ipvs.FlagPersistent | ipvs.FlagOnePacket, Timeout: 360, Netmask: 0xffffffff}},
			dests: []ipvs.DestinationExtended{{Destination: ipvs.Destination{Family: ipvs.IPv4,
				Address: addr("198.51.100.20"), Port: 53, Forwarding: ipvs.Tunnel, Weight: 1,
				TunnelType: ipvs.GUE, TunnelPort: 6080, TunnelFlags: ipvs.TunnelChecksum}}},
		},
		{
			service: ipvs.ServiceExtended{Service: ipvs.Service{Family: ipvs.IPv4, Protocol: ipvs.TCP,
				Address: addr("203.0.113.30"), Port: 443, Scheduler: "sh",
				Flags: ipvs.FlagPersistent | ipvs.FlagSched1 | ipvs.FlagSched2, Timeout: 1800, Netmask: 0xffffff00}},
			dests: []ipvs.DestinationExtended{{
				Destination: ipvs.Destination{Family: ipvs.IPv4, Address: addr("203.0.113.31"), Port: 443,
					Forwarding: ipvs.Route, Weight: 0},
				InactiveConnections: 3, PersistentConnections: 4,
			}},
		},
		{
			service: ipvs.ServiceExtended{Service: ipvs.Service{Family: ipvs.IPv6, Protocol: ipvs.TCP,
				Address: addr("2001:db8::10"), Port: 80, Scheduler: "mh", Flags: ipvs.FlagSched1, Netmask: 128}},
			dests: []ipvs.DestinationExtended{
				{
					Destination: ipvs.Destination{Family: ipvs.IPv6, Address: addr("2001:db8::11"), Port: 8080,
						Forwarding: ipvs.Masquerade, Weight: 5},
					ActiveConnections: 1, InactiveConnections: 2,
				},
				{Destination: ipvs.Destination{Family: ipvs.IPv4, Address: addr("192.0.2.11"), Port: 80,
					Forwarding: ipvs.Tunnel, Weight: 1, TunnelType: ipvs.GRE, TunnelFlags: ipvs.TunnelChecksum}},
			},
		},
		{
			service: ipvs.ServiceExtended{Service: ipvs.Service{Family: ipvs.IPv4, FirewallMark: 100,
				Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 300, Netmask: 0xffffffff}},
			dests: []ipvs.DestinationExtended{{Destination: ipvs.Destination{Family: ipvs.IPv4,
				Address: addr("192.0.2.11"), Forwarding: ipvs.Route, Weight: 2}}},
		},
		{
			service: ipvs.ServiceExtended{Service: ipvs.Service{Family: ipvs.IPv6, FirewallMark: 200,
				Scheduler: "rr", Flags: ipvs.FlagPersistent, Timeout: 60, Netmask: 64}},
			dests: []ipvs.DestinationExtended{{Destination: ipvs.Destination{Family: ipvs.IPv6,
				Address: addr("2001:db8:ffff:ffff:ffff:ffff:ffff:fff1"), Forwarding: ipvs.Route, Weight: 1}}},
		},
	}
}

var sampleTimeouts = ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}

var sampleDaemons = []ipvs.Daemon{
	{State: ipvs.Master, Interface: "eth0", SyncID: 10, MaxLength: 1472, Group: addr("224.0.0.81"), Port: 8848, TTL: 1},
	{State: ipvs.Backup, Interface: "eth1", SyncID: 10, MaxLength: 1472, Group: addr("224.0.0.81"), Port: 8848, TTL: 1},
}

// goldenText is a golden without its end-of-line marks.
func goldenText(t *testing.T, name string) string {
	t.Helper()
	g, ok := goldens[name]
	if !ok {
		t.Fatalf("no golden %q", name)
	}
	return marked(g)
}

// marked takes the leading newline and the "$" marks out of a text whose
// lines end in "$".
func marked(s string) string {
	return strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "$\n", "\n")
}

// listOptions is the option set of the given bits.
func listOptions(bits ...optionBit) optionSet {
	var s optionSet
	for _, b := range bits {
		s |= 1 << b
	}
	return s
}

// written runs write on a bufio.Writer and returns what it wrote.
func written(t *testing.T, write func(w *bufio.Writer) error) string {
	t.Helper()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := write(w); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	return buf.String()
}

func TestWriteServicesGoldens(t *testing.T) {
	tests := []struct {
		golden string
		opts   optionSet
	}{
		{"-Ln", listOptions(optNumeric)},
		{"-L", 0},
		{"-Ln --stats", listOptions(optNumeric, optStats)},
		{"-Ln --stats --exact", listOptions(optNumeric, optStats, optExact)},
		{"-Ln --rate", listOptions(optNumeric, optRate)},
		{"-Ln --thresholds", listOptions(optNumeric, optThresholds)},
		{"-Ln --persistent-conn", listOptions(optNumeric, optPersistentConn)},
		{"-Ln --tun-info", listOptions(optNumeric, optTunInfo)},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got := written(t, func(w *bufio.Writer) error {
				writeVersionHeader(w, sampleInfo)
				return writeServices(w, sampleTable(), listFormatOf(tt.opts), sampleNames())
			})
			if diff := cmp.Diff(goldenText(t, tt.golden), got); diff != "" {
				t.Errorf("ipvsadm %s (-want +got):\n%s", tt.golden, diff)
			}
		})
	}
}

// TestWriteServicesOneServiceGoldens is -L <service>: the title, the
// service and its destinations, no version line.
func TestWriteServicesOneServiceGoldens(t *testing.T) {
	tests := []struct {
		golden string
		opts   optionSet
	}{
		{"-L -n -t 192.0.2.10:80", listOptions(optNumeric, optServiceAddress)},
		{"-L -t www:http --stats", listOptions(optServiceAddress, optStats)},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			table := sampleTable()[:1]
			// The kernel's destination order, newest first, is undone by
			// the sort.
			table[0].dests[0], table[0].dests[1] = table[0].dests[1], table[0].dests[0]
			got := written(t, func(w *bufio.Writer) error {
				return writeServices(w, table, listFormatOf(tt.opts), sampleNames())
			})
			if diff := cmp.Diff(goldenText(t, tt.golden), got); diff != "" {
				t.Errorf("ipvsadm %s (-want +got):\n%s", tt.golden, diff)
			}
		})
	}
}

func TestWriteTimeoutsGolden(t *testing.T) {
	got := written(t, func(w *bufio.Writer) error {
		writeTimeouts(w, sampleTimeouts)
		return nil
	})
	if diff := cmp.Diff(goldenText(t, "-L --timeout"), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteDaemonsGolden(t *testing.T) {
	got := written(t, func(w *bufio.Writer) error {
		writeDaemons(w, sampleDaemons)
		return nil
	})
	if diff := cmp.Diff(goldenText(t, "-L --daemon"), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteDaemons(t *testing.T) {
	tests := []struct {
		name    string
		daemons []ipvs.Daemon
		want    string
	}{
		{"none", nil, ""},
		{
			// Kernels before the 2015 attributes report only these.
			"old kernel",
			[]ipvs.Daemon{{State: ipvs.Master, Interface: "eth0"}},
			"master sync daemon (mcast=eth0, syncid=0)\n",
		},
		{
			"IPv6 group, backup only",
			[]ipvs.Daemon{{State: ipvs.Backup, Interface: "eth1", SyncID: 9, MaxLength: 1400,
				Group: addr("ff02::1234"), Port: 8849, TTL: 2}},
			"backup sync daemon (mcast=eth1, syncid=9, maxlen=1400, group=ff02::1234, port=8849, ttl=2)\n",
		},
		{
			"syncid printed with %d",
			[]ipvs.Daemon{{State: ipvs.Master, Interface: "eth0", SyncID: 1 << 31}},
			"master sync daemon (mcast=eth0, syncid=-2147483648)\n",
		},
		{
			"state bits: both is master, none is skipped",
			[]ipvs.Daemon{{State: 3, Interface: "a"}, {State: 4, Interface: "b"}},
			"master sync daemon (mcast=a, syncid=0)\n",
		},
		{
			"interface name as libipvs copies it",
			[]ipvs.Daemon{{State: ipvs.Master, Interface: "0123456789abcdefgh"}},
			"master sync daemon (mcast=0123456789abcde, syncid=0)\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := written(t, func(w *bufio.Writer) error {
				writeDaemons(w, tt.daemons)
				return nil
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteTimeouts(t *testing.T) {
	got := written(t, func(w *bufio.Writer) error {
		writeTimeouts(w, ipvs.Timeouts{TCP: 0, TCPFin: 1 << 31 * time.Second, UDP: 59 * time.Second})
		return nil
	})
	if want := "Timeout (tcp tcpfin udp): 0 -2147483648 59\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriteVersionHeader(t *testing.T) {
	got := written(t, func(w *bufio.Writer) error {
		writeVersionHeader(w, ipvs.Info{Version: 0x01ff0a, ConnectionTableSize: 1 << 20})
		return nil
	})
	if want := "IP Virtual Server version 1.255.10 (size=1048576)\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestListFormatOfPrecedence(t *testing.T) {
	tests := []struct {
		opts optionSet
		want listColumns
	}{
		{0, columnsDefault},
		{listOptions(optTunInfo), columnsTunInfo},
		{listOptions(optTunInfo, optPersistentConn), columnsPersistentConn},
		{listOptions(optPersistentConn, optThresholds), columnsThresholds},
		{listOptions(optThresholds, optRate), columnsRate},
		{listOptions(optRate, optStats), columnsStats},
		{listOptions(optStats, optRate, optThresholds, optPersistentConn, optTunInfo), columnsStats},
	}
	for _, tt := range tests {
		if got := listFormatOf(tt.opts).columns; got != tt.want {
			t.Errorf("listFormatOf(%b).columns = %d, want %d", tt.opts, got, tt.want)
		}
	}
	f := listFormatOf(listOptions(optNumeric, optExact, optNoSort, optPersistentConn))
	if want := (listFormat{columns: columnsPersistentConn, numeric: true, exact: true, nosort: true, persistentConn: true}); f != want {
		t.Errorf("listFormatOf = %+v, want %+v", f, want)
	}
}

// listOne lists one service with its destinations, unsorted.
func listOne(t *testing.T, s ipvs.ServiceExtended, dests []ipvs.DestinationExtended, opts optionSet, names Names) string {
	t.Helper()
	out := written(t, func(w *bufio.Writer) error {
		return writeServices(w, []serviceTable{{s, dests}}, listFormatOf(opts|listOptions(optNoSort)), names)
	})
	_, body, _ := strings.Cut(out, "\n  -> RemoteAddress:Port")
	_, body, _ = strings.Cut(body, "\n")
	return body
}

func TestWriteServicesLines(t *testing.T) {
	tcp := func(a string, port uint16) ipvs.Service {
		return ipvs.Service{Protocol: ipvs.TCP, Address: addr(a), Port: port, Scheduler: "wlc", Netmask: 0xffffffff}
	}
	route := func(a string, port uint16) ipvs.DestinationExtended {
		return ipvs.DestinationExtended{Destination: ipvs.Destination{Address: addr(a), Port: port, Forwarding: ipvs.Route, Weight: 1}}
	}
	long := "a-very-long-host-name-for-truncation-tests.example.org"
	names := FileNames([]byte("10.0.0.1 "+long+"\n2001:db8::1 "+long+"\n10.0.0.2 twenty-seven-bytes-long.org\n"),
		[]byte("http 80/tcp\nhttps 443/tcp\nx 80/sctp\n"))
	tests := []struct {
		name  string
		svc   ipvs.Service
		dests []ipvs.DestinationExtended
		opts  optionSet
		names Names
		want  string
	}{
		{
			name:  "IPv4 names cut at 33 and 28, 59 bytes at most",
			svc:   tcp("10.0.0.1", 443),
			dests: []ipvs.DestinationExtended{route("10.0.0.1", 443), route("10.0.0.2", 80)},
			names: names,
			want: "TCP  a-very-long-host-name-for-tr wlc$\n" +
				"  -> a-very-long-host-name-for-tr Route   1      0          0         $\n" +
				"  -> twenty-seven-bytes-long.org: Route   1      0          0         $\n",
		},
		{
			name: "IPv6 names not cut but for the 59 bytes",
			svc: ipvs.Service{Family: ipvs.IPv6, Protocol: ipvs.TCP, Address: addr("2001:db8::1"), Port: 80,
				Scheduler: "rr", Netmask: 128},
			dests: []ipvs.DestinationExtended{route("2001:db8::1", 80), route("10.0.0.1", 80)},
			names: names,
			want: "TCP  [a-very-long-host-name-for-truncation-tests.example.org]:ht rr$\n" +
				"  -> [a-very-long-host-name-for-truncation-tests.example.org]:ht Route   1      0          0         $\n" +
				"  -> a-very-long-host-name-for-tr Route   1      0          0         $\n",
		},
		{
			name: "stats column after a long IPv6 name",
			svc: ipvs.Service{Family: ipvs.IPv6, Protocol: ipvs.TCP, Address: addr("2001:db8::1"), Port: 80,
				Scheduler: "rr"},
			opts:  listOptions(optNumeric, optStats),
			dests: []ipvs.DestinationExtended{route("2001:db8:1:2:3:4:5:6", 8080)},
			want: "TCP  [2001:db8::1]:80                    0        0        0        0        0$\n" +
				"  -> [2001:db8:1:2:3:4:5:6]:8080         0        0        0        0        0$\n",
		},
		{
			name: "SCTP, and other protocols as ? with decimal ports",
			svc:  ipvs.Service{Protocol: ipvs.SCTP, Address: addr("10.0.0.1"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff},
			dests: []ipvs.DestinationExtended{
				route("10.0.0.3", 80),
			},
			names: names,
			want: "SCTP a-very-long-host-name-for-tr rr$\n" +
				"  -> 10.0.0.3:x                   Route   1      0          0         $\n",
		},
		{
			name:  "unknown protocol, its decimal port cut with the name at 33",
			svc:   ipvs.Service{Protocol: 99, Address: addr("10.0.0.2"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff},
			names: names,
			want:  "?    twenty-seven-bytes-long.org: rr$\n",
		},
		{
			name: "fwmark unsigned (1.31 prints -1)",
			svc:  ipvs.Service{FirewallMark: 0xffffffff, Scheduler: "rr", Netmask: 0xffffffff},
			opts: listOptions(optNumeric),
			want: "FWM  4294967295 rr$\n",
		},
		{
			name: "scheduler flags of other schedulers, pe only when persistent",
			svc: ipvs.Service{Protocol: ipvs.UDP, Address: addr("10.0.0.1"), Port: 5060, Scheduler: "rr",
				Flags: ipvs.FlagSched1 | ipvs.FlagSched2 | ipvs.FlagSched3 | ipvs.FlagOnePacket, PersistenceEngine: "sip",
				Netmask: 0xffffffff},
			opts: listOptions(optNumeric),
			want: "UDP  10.0.0.1:5060 rr (flag-1,flag-2,flag-3) ops$\n",
		},
		{
			name: "sh with only the third flag shows empty parentheses",
			svc: ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.0.0.1"), Port: 80, Scheduler: "sh",
				Flags: ipvs.FlagSched3 | ipvs.FlagPersistent, Timeout: 10, PersistenceEngine: "sip", Netmask: 24},
			opts: listOptions(optNumeric),
			want: "TCP  10.0.0.1:80 sh () persistent 10 mask 0.0.0.24 pe sip$\n",
		},
		{
			name: "mh port flag, kernel scheduler none",
			svc:  ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.0.0.7"), Port: 80, Scheduler: "mh", Flags: ipvs.FlagSched2},
			opts: listOptions(optNumeric),
			want: "TCP  10.0.0.7:80 mh (mh-port)$\n",
		},
		{
			name: "IPv6 mask other than 128; zero means 128",
			svc: ipvs.Service{Family: ipvs.IPv6, FirewallMark: 1, Scheduler: "none", Flags: ipvs.FlagPersistent,
				Timeout: 5},
			opts: listOptions(optNumeric),
			want: "FWM  1 IPv6 none persistent 5$\n",
		},
		{
			name: "forwarding methods, (null) for Bypass and others",
			svc:  tcp("10.0.0.1", 80),
			dests: []ipvs.DestinationExtended{
				{Destination: ipvs.Destination{Address: addr("10.0.0.2"), Port: 80, Forwarding: ipvs.Local, Weight: -1}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.3"), Port: 80, Forwarding: ipvs.Bypass, Weight: 2147483647}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.4"), Port: 80, Forwarding: 7}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.5"), Port: 80, Forwarding: 8 | ipvs.Tunnel},
					ActiveConnections: 4294967295, InactiveConnections: 12345678901 % (1 << 32)},
			},
			opts: listOptions(optNumeric),
			want: "TCP  10.0.0.1:80 wlc$\n" +
				"  -> 10.0.0.2:80                  Local   -1     0          0         $\n" +
				"  -> 10.0.0.3:80                  (null)  2147483647 0          0         $\n" +
				"  -> 10.0.0.4:80                  (null)  0      0          0         $\n" +
				"  -> 10.0.0.5:80                  Tunnel  0      4294967295 3755744309$\n",
		},
		{
			name: "tunnel information",
			svc:  tcp("10.0.0.1", 80),
			dests: []ipvs.DestinationExtended{
				{Destination: ipvs.Destination{Address: addr("10.0.0.2"), Forwarding: ipvs.Tunnel, TunnelType: ipvs.IPIP}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.3"), Forwarding: ipvs.Tunnel, TunnelType: ipvs.GUE,
					TunnelPort: 65535, TunnelFlags: ipvs.TunnelRemoteChecksum}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.4"), Forwarding: ipvs.Tunnel, TunnelType: ipvs.GUE,
					TunnelPort: 65535, TunnelFlags: 3}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.5"), Forwarding: ipvs.Tunnel, TunnelType: ipvs.GRE}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.6"), Forwarding: ipvs.Tunnel, TunnelType: 3}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.7"), Forwarding: ipvs.Masquerade, TunnelType: ipvs.GRE}},
			},
			opts: listOptions(optNumeric, optTunInfo),
			want: "TCP  10.0.0.1:80 wlc$\n" +
				"  -> 10.0.0.2:0                   Tunnel  ipip          0      0          0         $\n" +
				"  -> 10.0.0.3:0                   Tunnel  gue:65535:r+c 0      0          0         $\n" +
				"  -> 10.0.0.4:0                   Tunnel  gue:65535:(null 0      0          0         $\n" +
				"  -> 10.0.0.5:0                   Tunnel  gre:-c        0      0          0         $\n" +
				"  -> 10.0.0.6:0                   Tunnel  n/a           0      0          0         $\n" +
				"  -> 10.0.0.7:0                   Masq    n/a           0      0          0         $\n",
		},
		{
			name: "persistent-conn weight unsigned, thresholds",
			svc:  tcp("10.0.0.1", 80),
			dests: []ipvs.DestinationExtended{{Destination: ipvs.Destination{Address: addr("10.0.0.2"), Port: 80, Weight: -1},
				PersistentConnections: 7}},
			opts: listOptions(optNumeric, optPersistentConn),
			want: "TCP  10.0.0.1:80 wlc$\n" +
				"  -> 10.0.0.2:80                  4294967295 7           0          0         $\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listOne(t, ipvs.ServiceExtended{Service: tt.svc}, tt.dests, tt.opts, tt.names)
			if diff := cmp.Diff(marked("\n"+tt.want), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteServicesDestinationStats32 checks ipvsadm's reading of the
// destinations' 64-bit counters with its 32-bit parser; the service's are
// whole, and so are the destinations' byte counters.
func TestWriteServicesDestinationStats32(t *testing.T) {
	big := stats(4294967296, 12345678901234, 12345678901234, 12345678901234, 1<<40,
		4294967297, 4294967298, 1<<32+99999999, 1<<32+100000000, 1<<33)
	svc := ipvs.ServiceExtended{Service: ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.0.0.1"), Port: 80}, Stats: big}
	dests := []ipvs.DestinationExtended{{Destination: ipvs.Destination{Address: addr("10.0.0.2"), Port: 80}, Stats: big}}
	tests := []struct {
		name string
		opts optionSet
		want string
	}{
		{"stats", listOptions(optNumeric, optStats),
			"TCP  10.0.0.1:80                     4294M   12345G   12345G   12345G    1099G$\n" +
				"  -> 10.0.0.2:80                         0    1942M    1942M   12345G    1099G$\n"},
		{"stats exact", listOptions(optNumeric, optStats, optExact),
			"TCP  10.0.0.1:80                  4294967296 12345678901234 12345678901234 12345678901234 1099511627776$\n" +
				"  -> 10.0.0.2:80                         0 1942892530 1942892530 12345678901234 1099511627776$\n"},
		{"rate", listOptions(optNumeric, optRate),
			"TCP  10.0.0.1:80                     4294M    4294M    4394M    4394M    8589M$\n" +
				"  -> 10.0.0.2:80                         1        2 99999999  100000K        0$\n"},
		{"rate exact", listOptions(optNumeric, optRate, optExact),
			"TCP  10.0.0.1:80                  4294967297 4294967298 4394967295 4394967296 8589934592$\n" +
				"  -> 10.0.0.2:80                         1        2 99999999 100000000        0$\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listOne(t, svc, dests, tt.opts, nil)
			if diff := cmp.Diff(marked("\n"+tt.want), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteServicesNosortKeepsKernelOrder(t *testing.T) {
	table := sampleTable()
	got := written(t, func(w *bufio.Writer) error {
		return writeServices(w, table, listFormatOf(listOptions(optNumeric, optNoSort)), nil)
	})
	want := "Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
		"TCP  192.0.2.10:80 wrr\n" +
		"  -> 192.0.2.11:8080              Masq    3      12         40        \n" +
		"  -> 192.0.2.12:80                Route   1      2          7         \n" +
		"UDP  192.0.2.10:53 rr persistent 360 ops\n" +
		"  -> 198.51.100.20:53             Tunnel  1      0          0         \n" +
		"TCP  203.0.113.30:443 sh (sh-fallback,sh-port) persistent 1800 mask 255.255.255.0\n" +
		"  -> 203.0.113.31:443             Route   0      0          3         \n" +
		"TCP  [2001:db8::10]:80 mh (mh-fallback)\n" +
		"  -> [2001:db8::11]:8080          Masq    5      1          2         \n" +
		"  -> 192.0.2.11:80                Tunnel  1      0          0         \n" +
		"FWM  100 wlc persistent 300\n" +
		"  -> 192.0.2.11:0                 Route   2      0          0         \n" +
		"FWM  200 IPv6 rr persistent 60 mask 64\n" +
		"  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0 Route   1      0          0         \n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriteServicesEmptyTable(t *testing.T) {
	got := written(t, func(w *bufio.Writer) error {
		return writeServices(w, nil, listFormatOf(listOptions(optThresholds)), nil)
	})
	if diff := cmp.Diff(titleThresholds, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestWriteServicesAllocations checks that a listing's allocations do not
// grow with its destinations, sorted or not.
func TestWriteServicesAllocations(t *testing.T) {
	allocs := func(n int, opts optionSet) float64 {
		dests := make([]ipvs.DestinationExtended, n)
		for i := range dests {
			dests[i] = ipvs.DestinationExtended{Destination: ipvs.Destination{
				Address: netip.AddrFrom4([4]byte{192, 0, 2, byte(n - i)}), Port: 80, Forwarding: ipvs.Route, Weight: 1}}
		}
		table := []serviceTable{{ipvs.ServiceExtended{Service: ipvs.Service{Protocol: ipvs.TCP,
			Address: addr("192.0.2.10"), Port: 80, Scheduler: "rr"}}, dests}}
		w := bufio.NewWriter(io.Discard)
		names := sampleNames()
		f := listFormatOf(opts)
		return testing.AllocsPerRun(10, func() { writeServices(w, table, f, names) })
	}
	for _, opts := range []optionSet{
		listOptions(optNoSort), listOptions(optNoSort, optStats), listOptions(optNoSort, optTunInfo),
		0, listOptions(optNumeric, optRate),
	} {
		if few, many := allocs(2, opts), allocs(200, opts); many != few || many > 10 {
			t.Errorf("options %b: %v allocations for 2 destinations, %v for 200", opts, few, many)
		}
	}
}

func TestAppendLargenum(t *testing.T) {
	tests := []struct {
		n           uint64
		rough, full string
	}{
		{0, "        0", "        0"},
		{12345678, " 12345678", " 12345678"},
		{99999999, " 99999999", " 99999999"},
		{100000000, "  100000K", " 100000000"},
		{999999999, "  999999K", " 999999999"},
		{1000000000, "    1000M", " 1000000000"},
		{99999999999, "   99999M", " 99999999999"},
		{100000000000, "     100G", " 100000000000"},
		{99999999999999, "   99999G", " 99999999999999"},
		{100000000000000, "     100T", " 100000000000000"},
		{18446744073709551615, "18446744T", " 18446744073709551615"},
	}
	for _, tt := range tests {
		if got := string(appendLargenum(nil, tt.n, false)); got != tt.rough {
			t.Errorf("print_largenum(%d) = %q, want %q", tt.n, got, tt.rough)
		}
		if got := string(appendLargenum(nil, tt.n, true)); got != tt.full {
			t.Errorf("print_largenum(%d) --exact = %q, want %q", tt.n, got, tt.full)
		}
	}
	// Wide values run together.
	b := appendLargenum(nil, 100000000000000, false)
	b = appendLargenum(b, 18446744073709551615, false)
	if got, want := string(b), "     100T18446744T"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPrintfFields(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{string(appendUintLeft(nil, 12, 6)), "12    "},
		{string(appendUintLeft(nil, 1234567, 6)), "1234567"},
		{string(appendIntLeft(nil, -5, 6)), "-5    "},
		{string(appendStringLeft(nil, "Masq", 7)), "Masq   "},
		{string(appendStringLeft(nil, []byte("Tunnel+"), 3)), "Tunnel+"},
		{string(appendUintRight(nil, 7, 8)), "       7"},
		{string(appendUintRight(nil, 123456789, 8)), "123456789"},
		{string(appendZeroPadded(nil, 5)), "05"},
		{string(appendZeroPadded(nil, 1440)), "1440"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// The golden outputs of ipvsadm 1.31 for the sample kernel state of §10.2 of
// the reference (/work/shared/reference/ipvsadm-1.31.md), as observed from
// the Debian 1.31 binary. Each line ends in "$", which marks where the line
// ends (several end in spaces); goldenText takes the marks out.

var goldens = map[string]string{
	"-Ln": `
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port Scheduler Flags$
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn$
TCP  192.0.2.10:80 wrr$
  -> 192.0.2.11:8080              Masq    3      12         40        $
  -> 192.0.2.12:80                Route   1      2          7         $
TCP  203.0.113.30:443 sh (sh-fallback,sh-port) persistent 1800 mask 255.255.255.0$
  -> 203.0.113.31:443             Route   0      0          3         $
UDP  192.0.2.10:53 rr persistent 360 ops$
  -> 198.51.100.20:53             Tunnel  1      0          0         $
TCP  [2001:db8::10]:80 mh (mh-fallback)$
  -> 192.0.2.11:80                Tunnel  1      0          0         $
  -> [2001:db8::11]:8080          Masq    5      1          2         $
FWM  100 wlc persistent 300$
  -> 192.0.2.11:0                 Route   2      0          0         $
FWM  200 IPv6 rr persistent 60 mask 64$
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0 Route   1      0          0         $
`,
	"-L": `
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port Scheduler Flags$
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn$
TCP  www.example.com:http wrr$
  -> web1.example.com:http-alt    Masq    3      12         40        $
  -> web2.example.com:http        Route   1      2          7         $
TCP  a-very-long-host-name-for-tr sh (sh-fallback,sh-port) persistent 1800 mask 255.255.255.0$
  -> mid-length-name.example.org: Route   0      0          3         $
UDP  www.example.com:domain rr persistent 360 ops$
  -> db.example.net:domain        Tunnel  1      0          0         $
TCP  [v6www.example.com]:http mh (mh-fallback)$
  -> web1.example.com:http        Tunnel  1      0          0         $
  -> [v6web1.example.com]:http-alt Masq    5      1          2         $
FWM  100 wlc persistent 300$
  -> web1.example.com:0           Route   2      0          0         $
FWM  200 IPv6 rr persistent 60 mask 64$
  -> [v6long-name-for-width-tests.example.com]:0 Route   1      0          0         $
`,
	"-Ln --stats": `
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes$
  -> RemoteAddress:Port$
TCP  192.0.2.10:80                    1234    56789    45678 12345678  987654K$
  -> 192.0.2.11:8080                   600    30000    25000  6000000  500000K$
  -> 192.0.2.12:80                     634    26789    20678  6345678  487654K$
TCP  203.0.113.30:443                    0        0        0        0        0$
  -> 203.0.113.31:443                    0        0        0        0        0$
UDP  192.0.2.10:53                       0        0        0        0        0$
  -> 198.51.100.20:53                    0        0        0        0        0$
TCP  [2001:db8::10]:80                   0        0        0        0        0$
  -> 192.0.2.11:80                       0        0        0        0        0$
  -> [2001:db8::11]:8080                 0        0        0        0        0$
FWM  100                                 0        0        0        0        0$
  -> 192.0.2.11:0                        0        0        0        0        0$
FWM  200 IPv6                            0        0        0        0        0$
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0        0        0        0        0        0$
`,
	"-Ln --stats --exact": `
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes$
  -> RemoteAddress:Port$
TCP  192.0.2.10:80                    1234    56789    45678 12345678 987654321$
  -> 192.0.2.11:8080                   600    30000    25000  6000000 500000000$
  -> 192.0.2.12:80                     634    26789    20678  6345678 487654321$
TCP  203.0.113.30:443                    0        0        0        0        0$
  -> 203.0.113.31:443                    0        0        0        0        0$
UDP  192.0.2.10:53                       0        0        0        0        0$
  -> 198.51.100.20:53                    0        0        0        0        0$
TCP  [2001:db8::10]:80                   0        0        0        0        0$
  -> 192.0.2.11:80                       0        0        0        0        0$
  -> [2001:db8::11]:8080                 0        0        0        0        0$
FWM  100                                 0        0        0        0        0$
  -> 192.0.2.11:0                        0        0        0        0        0$
FWM  200 IPv6                            0        0        0        0        0$
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0        0        0        0        0        0$
`,
	"-Ln --rate": `
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS$
  -> RemoteAddress:Port$
TCP  192.0.2.10:80                       3       40       35     2400    51000$
  -> 192.0.2.11:8080                     1       20       17     1200    25000$
  -> 192.0.2.12:80                       2       20       18     1200    26000$
TCP  203.0.113.30:443                    0        0        0        0        0$
  -> 203.0.113.31:443                    0        0        0        0        0$
UDP  192.0.2.10:53                       0        0        0        0        0$
  -> 198.51.100.20:53                    0        0        0        0        0$
TCP  [2001:db8::10]:80                   0        0        0        0        0$
  -> 192.0.2.11:80                       0        0        0        0        0$
  -> [2001:db8::11]:8080                 0        0        0        0        0$
FWM  100                                 0        0        0        0        0$
  -> 192.0.2.11:0                        0        0        0        0        0$
FWM  200 IPv6                            0        0        0        0        0$
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0        0        0        0        0        0$
`,
	"-Ln --thresholds": `
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn $
  -> RemoteAddress:Port$
TCP  192.0.2.10:80 wrr$
  -> 192.0.2.11:8080              1000       800        12         40        $
  -> 192.0.2.12:80                0          0          2          7         $
TCP  203.0.113.30:443 sh (sh-fallback,sh-port) persistent 1800 mask 255.255.255.0$
  -> 203.0.113.31:443             0          0          0          3         $
UDP  192.0.2.10:53 rr persistent 360 ops$
  -> 198.51.100.20:53             0          0          0          0         $
TCP  [2001:db8::10]:80 mh (mh-fallback)$
  -> 192.0.2.11:80                0          0          0          0         $
  -> [2001:db8::11]:8080          0          0          1          2         $
FWM  100 wlc persistent 300$
  -> 192.0.2.11:0                 0          0          0          0         $
FWM  200 IPv6 rr persistent 60 mask 64$
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0 0          0          0          0         $
`,
	"-Ln --persistent-conn": `
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn $
  -> RemoteAddress:Port$
TCP  192.0.2.10:80 wrr$
  -> 192.0.2.11:8080              3         0           12         40        $
  -> 192.0.2.12:80                1         0           2          7         $
TCP  203.0.113.30:443 sh (sh-fallback,sh-port) persistent 1800 mask 255.255.255.0$
  -> 203.0.113.31:443             0         4           0          3         $
UDP  192.0.2.10:53 rr persistent 360 ops$
  -> 198.51.100.20:53             1         0           0          0         $
TCP  [2001:db8::10]:80 mh (mh-fallback)$
  -> 192.0.2.11:80                1         0           0          0         $
  -> [2001:db8::11]:8080          5         0           1          2         $
FWM  100 wlc persistent 300$
  -> 192.0.2.11:0                 2         0           0          0         $
FWM  200 IPv6 rr persistent 60 mask 64$
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0 1         0           0          0         $
`,
	"-Ln --tun-info": `
IP Virtual Server version 1.2.1 (size=4096)$
Prot LocalAddress:Port Scheduler Flags$
  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn$
TCP  192.0.2.10:80 wrr$
  -> 192.0.2.11:8080              Masq    n/a           3      12         40        $
  -> 192.0.2.12:80                Route   n/a           1      2          7         $
TCP  203.0.113.30:443 sh (sh-fallback,sh-port) persistent 1800 mask 255.255.255.0$
  -> 203.0.113.31:443             Route   n/a           0      0          3         $
UDP  192.0.2.10:53 rr persistent 360 ops$
  -> 198.51.100.20:53             Tunnel  gue:6080:+c   1      0          0         $
TCP  [2001:db8::10]:80 mh (mh-fallback)$
  -> 192.0.2.11:80                Tunnel  gre:+c        1      0          0         $
  -> [2001:db8::11]:8080          Masq    n/a           5      1          2         $
FWM  100 wlc persistent 300$
  -> 192.0.2.11:0                 Route   n/a           2      0          0         $
FWM  200 IPv6 rr persistent 60 mask 64$
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0 Route   n/a           1      0          0         $
`,
	"-Sn": `
-A -t 192.0.2.10:80 -s wrr$
-a -t 192.0.2.10:80 -r 192.0.2.11:8080 -m -w 3$
-a -t 192.0.2.10:80 -r 192.0.2.12:80 -g -w 1$
-A -t 203.0.113.30:443 -s sh -p 1800 -M 255.255.255.0 -b sh-fallback,sh-port$
-a -t 203.0.113.30:443 -r 203.0.113.31:443 -g -w 0$
-A -u 192.0.2.10:53 -s rr -p 360 -o$
-a -u 192.0.2.10:53 -r 198.51.100.20:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum$
-A -t [2001:db8::10]:80 -s mh -b mh-fallback$
-a -t [2001:db8::10]:80 -r 192.0.2.11:80 -i -w 1 --tun-type gre --tun-csum$
-a -t [2001:db8::10]:80 -r [2001:db8::11]:8080 -m -w 5$
-A -f 100 -s wlc -p 300$
-a -f 100 -r 192.0.2.11:0 -g -w 2$
-A -f 200 -6 -s rr -p 60 -M 64$
-a -f 200 -6 -r [2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0 -g -w 1$
`,
	"-S": `
-A -t www.example.com:http -s wrr$
-a -t www.example.com:http -r web1.example.com:http-alt -m -w 3$
-a -t www.example.com:http -r web2.example.com:http -g -w 1$
-A -t a-very-long-host-name-for-truncation-tests.example.org:http -s sh -p 1800 -M 255.255.255.0 -b sh-fallback,sh-port$
-a -t a-very-long-host-name-for-truncation-tests.example.org:http -r mid-length-name.example.org:https -g -w 0$
-A -u www.example.com:domain -s rr -p 360 -o$
-a -u www.example.com:domain -r db.example.net:domain -i -w 1 --tun-type gue --tun-port 6080 --tun-csum$
-A -t [v6www.example.com]:http -s mh -b mh-fallback$
-a -t [v6www.example.com]:http -r web1.example.com:http -i -w 1 --tun-type gre --tun-csum$
-a -t [v6www.example.com]:http -r [v6web1.example.com]:http-alt -m -w 5$
-A -f 100 -s wlc -p 300$
-a -f 100 -r web1.example.com:0 -g -w 2$
-A -f 200 -6 -s rr -p 60 -M 64$
-a -f 200 -6 -r [v6long-name-for-width-tests.example.com]:0 -g -w 1$
`,
	"-L --timeout": `
Timeout (tcp tcpfin udp): 900 120 300$
`,
	"-L --daemon": `
master sync daemon (mcast=eth0, syncid=10, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)$
backup sync daemon (mcast=eth1, syncid=10, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)$
`,
	"-Lnc": `
IPVS connection entries$
pro expire state       source             virtual            destination$
TCP 14:59  ESTABLISHED 198.51.100.1:54321 192.0.2.10:80      192.0.2.11:8080$
TCP 01:01  TIME_WAIT   198.51.100.2:50000 192.0.2.10:80      192.0.2.12:80$
UDP 04:44  UDP         198.51.100.3:35553 192.0.2.10:53      198.51.100.20:53$
TCP 00:57  SYN_RECV    [2001:db8::aa]:54321 [2001:db8::10]:80  [2001:db8::11]:8080$
UDP 02:59  UDP         198.51.100.5:5060  192.0.2.10:5060    192.0.2.11:5060$
`,
	"-Lc": `
IPVS connection entries$
pro expire state       source             virtual            destination$
TCP 14:59  ESTABLISHED 198.51.100.1:54321 www.example.com:http web1.example.com:http-alt$
TCP 01:01  TIME_WAIT   198.51.100.2:50000 www.example.com:http web2.example.com:http$
UDP 04:44  UDP         198.51.100.3:35553 www.example.com:domain db.example.net:domain$
TCP 00:57  SYN_RECV    [2001:db8::aa]:54321 [v6www.example.com]:http [v6web1.example.com]:http-alt$
UDP 02:59  UDP         198.51.100.5:sip   www.example.com:sip web1.example.com:sip$
`,
	"-Lnc --persistent-conn": `
IPVS connection entries$
pro expire state       source             virtual            destination        pe name          pe_data$
TCP 14:59  ESTABLISHED 198.51.100.1:54321 192.0.2.10:80      192.0.2.11:8080$
TCP 01:01  TIME_WAIT   198.51.100.2:50000 192.0.2.10:80      192.0.2.12:80$
UDP 04:44  UDP         198.51.100.3:35553 192.0.2.10:53      198.51.100.20:53$
TCP 00:57  SYN_RECV    [2001:db8::aa]:54321 [2001:db8::10]:80  [2001:db8::11]:8080$
UDP 02:59  UDP         198.51.100.5:5060  192.0.2.10:5060    192.0.2.11:5060  sip                3848276298@192.0.2.200$
`,
	"-L -n -t 192.0.2.10:80": `
Prot LocalAddress:Port Scheduler Flags$
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn$
TCP  192.0.2.10:80 wrr$
  -> 192.0.2.11:8080              Masq    3      12         40        $
  -> 192.0.2.12:80                Route   1      2          7         $
`,
	"-L -t www:http --stats": `
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes$
  -> RemoteAddress:Port$
TCP  www.example.com:http             1234    56789    45678 12345678  987654K$
  -> web1.example.com:http-alt         600    30000    25000  6000000  500000K$
  -> web2.example.com:http             634    26789    20678  6345678  487654K$
`,
}
