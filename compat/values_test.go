package compat

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// staticNames answers gethostbyname and getservbyname from two small
// tables, like a host with this /etc/hosts and /etc/services (Debian's has
// no http/udp, and neither has this one).
type staticNames struct {
	hosts    map[string]netip.Addr
	services map[string]uint16 // "name/proto"
}

func (n staticNames) HostAddr(name string) (netip.Addr, bool) {
	a, ok := n.hosts[name]
	return a, ok
}

func (n staticNames) AddrHost(netip.Addr) (string, bool) { return "", false }

func (n staticNames) ServicePort(name, proto string) (uint16, bool) {
	p, ok := n.services[name+"/"+proto]
	return p, ok
}

func (n staticNames) PortService(uint16, string) (string, bool) { return "", false }

// grammarNames is a Names already, so that passing it allocates nothing.
var grammarNames Names = staticNames{
	hosts: map[string]netip.Addr{
		"localhost":  netip.MustParseAddr("127.0.0.1"),
		"www":        netip.MustParseAddr("192.0.2.10"),
		"v6only":     netip.MustParseAddr("2001:db8::1"),
		"mask24":     netip.MustParseAddr("255.255.255.0"),
		"1.2.3.4 xx": netip.MustParseAddr("192.0.2.97"), // never asked: inet_aton takes it
	},
	services: map[string]uint16{
		"http/tcp":     80,
		"ssh/tcp":      22,
		"domain/tcp":   53,
		"domain/udp":   53,
		"sip/sctp":     5060,
		"zero/tcp":     0,
		"http-alt/tcp": 8080,
	},
}

// TestStringToNumber checks string_to_number, strtol in base 10 on the
// whole string (§3.1).
func TestStringToNumber(t *testing.T) {
	for _, tt := range []struct {
		in       string
		min, max int64
		want     int64
		ok       bool
	}{
		{"60", 0, 100, 60, true},
		{" 60", 0, 100, 60, true},
		{"\t\n\v\f\r 60", 0, 100, 60, true},
		{"+60", 0, 100, 60, true},
		{"0600", 0, 1000, 600, true},
		{"-0", 0, 100, 0, true},
		{"0x10", 0, 100, 0, false},
		{"600x", 0, 1000, 0, false},
		{"60 ", 0, 100, 0, false},
		{"", 0, 100, 0, false},
		{" ", 0, 100, 0, false},
		{"+", 0, 100, 0, false},
		{"-1", 0, 100, 0, false},
		{"101", 0, 100, 0, false},
		{"2147483647", 0, 1<<31 - 1, 1<<31 - 1, true},
		{"2147483648", 0, 1<<31 - 1, 0, false},
		{"9223372036854775807", 0, 1<<63 - 1, 1<<63 - 1, true},
		{"9223372036854775808", 0, 1<<63 - 1, 0, false}, // ERANGE
	} {
		got, ok := stringToNumber(tt.in, tt.min, tt.max)
		if got != tt.want || ok != tt.ok {
			t.Errorf("stringToNumber(%q, %d, %d) = %d, %v; want %d, %v", tt.in, tt.min, tt.max, got, ok, tt.want, tt.ok)
		}
	}
}

// TestAtoi checks atoi, which -M reads IPv6 prefix lengths with: trailing
// junk is ignored and the long is cut to an int.
func TestAtoi(t *testing.T) {
	for in, want := range map[string]int32{
		"64":                   64,
		"64x":                  64,
		" 64":                  64,
		"255.255.255.0":        255,
		"x":                    0,
		"-5":                   -5,
		"4294967424":           128, // 2^32+128 cut to 32 bits
		"99999999999999999999": -1,  // LONG_MAX cut to 32 bits
	} {
		if got := atoi(in); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestParseFwmark checks parse_fwmark: 1 to 4294967295 (§3.2).
func TestParseFwmark(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"1", 1, true},
		{"+7", 7, true},
		{" 7", 7, true},
		{"4294967295", 4294967295, true},
		{"4294967296", 0, false},
		{"0", 0, false},
		{"-5", 0, false},
		{"12abc", 0, false},
		{"", 0, false},
		{"0x10", 0, false},
		{"99999999999999999999", 0, false},
	} {
		got, ok := parseFwmark(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseFwmark(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestInetAton checks the inet_aton clone on the forms glibc 2.36 accepts
// and refuses.
func TestInetAton(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"1.2.3.4", 0x01020304, true},
		{"1", 0x00000001, true},
		{"24", 0x00000018, true},
		{"1.2", 0x01000002, true},
		{"1.2.3", 0x01020003, true},
		{"16909060", 0x01020304, true},
		{"010.0.0.1", 0x08000001, true},
		{"0x7f000001", 0x7f000001, true},
		{"0X7F.1", 0x7f000001, true},
		{"0377.0xff.255.0", 0xffffff00, true},
		{"1.16777215", 0x01ffffff, true},
		{"1.2.65535", 0x0102ffff, true},
		{"4294967295", 0xffffffff, true},
		{"1.2.3.4 junk", 0x01020304, true},
		{"1.2.3.4\tjunk", 0x01020304, true},
		{"1.2.3.4\n", 0x01020304, true},
		{"1.2.3.4x", 0, false},
		{" 1.2.3.4", 0, false},
		{"", 0, false},
		{"08", 0, false},
		{"0x", 0, false},
		{"0xg", 0, false},
		{"1.2.3.4.5", 0, false},
		{"1.2.3.", 0, false},
		{"1..2", 0, false},
		{".1", 0, false},
		{"256.1.1.1", 0, false},
		{"1.2.3.256", 0, false},
		{"1.16777216", 0, false},
		{"1.2.65536", 0, false},
		{"4294967296", 0, false},
		{"99999999999999999999999", 0, false},
		{"+1.2.3.4", 0, false},
		{"::1", 0, false},
	} {
		got, ok := inetAton(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("inetAton(%q) = %#08x, %v; want %#08x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestInetPton checks the inet_pton clones for both families.
func TestInetPton(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"1.2.3.4", true},
		{"0.0.0.0", true},
		{"255.255.255.255", true},
		{"01.2.3.4", false},
		{"1.2.3", false},
		{"1.2.3.4.", false},
		{"256.1.1.1", false},
		{"1.2.3.4 ", false},
		{"0x1.2.3.4", false},
	} {
		got, ok := inetPton4(tt.in)
		if ok != tt.ok || ok && netip.AddrFrom4(got) != netip.MustParseAddr(tt.in) {
			t.Errorf("inetPton4(%q) = %v, %v; want ok %v", tt.in, got, ok, tt.ok)
		}
	}
	for _, tt := range []struct {
		in   string
		want string // netip form, "" when refused
	}{
		{"::", "::"},
		{"::1", "::1"},
		{"1::", "1::"},
		{"2001:db8::1", "2001:db8::1"},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
		{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
		{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
		{"ABCD:EF01::", "abcd:ef01::"},
		{"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
		{"::1.2.3.4", "::102:304"},
		{"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
		{"1:2:3:4:5:6:7:8::", ""},
		{"1:2:3:4:5:6:7::8", ""},
		{"1::2::3", ""},
		{":1::2", ""},
		{"1::2:", ""},
		{":::", ""},
		{"12345::", ""},
		{"1:2:3:4:5:6:7:1.2.3.4", ""},
		{"::01.2.3.4", ""},
		{"::1.2.3", ""},
		{"fe80::1%eth0", ""},
		{"1.2.3.4", ""},
		{"", ""},
	} {
		got, ok := inetPton6(tt.in)
		var want netip.Addr
		if tt.want != "" {
			want = netip.MustParseAddr(tt.want)
		}
		if ok != (tt.want != "") || ok && netip.AddrFrom16(got) != want {
			t.Errorf("inetPton6(%q) = %v, %v; want %q", tt.in, netip.AddrFrom16(got), ok, tt.want)
		}
	}
}

// TestParseService checks parse_service (§3.3) for services and, with
// protocol 0, for a -r before any service.
func TestParseService(t *testing.T) {
	a := netip.MustParseAddr
	for _, tt := range []struct {
		in    string
		proto ipvs.Protocol
		want  endpoint
		ok    bool
	}{
		{"1.2.3.4:80", ipvs.TCP, endpoint{a("1.2.3.4"), 80, true}, true},
		{"1.2.3.4", ipvs.TCP, endpoint{addr: a("1.2.3.4")}, true},
		{"1.2.3.4:0", ipvs.TCP, endpoint{a("1.2.3.4"), 0, true}, true},
		{"1.2.3.4:+80", ipvs.TCP, endpoint{a("1.2.3.4"), 80, true}, true},
		{"1.2.3.4: 80", ipvs.TCP, endpoint{a("1.2.3.4"), 80, true}, true},
		{"1.2.3.4:65536", ipvs.TCP, endpoint{}, false},
		{"1.2.3.4:", ipvs.TCP, endpoint{}, false},
		// Digits alone are refused, but not digits and a port.
		{"80", ipvs.TCP, endpoint{}, false},
		{"", ipvs.TCP, endpoint{}, false},
		{"16909060:81", ipvs.TCP, endpoint{a("1.2.3.4"), 81, true}, true},
		{"0x7f000001:80", ipvs.TCP, endpoint{a("127.0.0.1"), 80, true}, true},
		{"1.2.3:80", ipvs.TCP, endpoint{a("1.2.0.3"), 80, true}, true},
		{"1.2.3.4 junk:80", ipvs.TCP, endpoint{a("1.2.3.4"), 80, true}, true},
		{"localhost:http", ipvs.TCP, endpoint{a("127.0.0.1"), 80, true}, true},
		{"www:ssh", ipvs.TCP, endpoint{a("192.0.2.10"), 22, true}, true},
		{"nosuchhost:80", ipvs.TCP, endpoint{}, false},
		{"v6only:80", ipvs.TCP, endpoint{}, false}, // gethostbyname is IPv4
		// Port names are looked up for the service's protocol.
		{"1.2.3.4:http", ipvs.UDP, endpoint{}, false},
		{"1.2.3.4:domain", ipvs.UDP, endpoint{a("1.2.3.4"), 53, true}, true},
		{"1.2.3.4:sip", ipvs.SCTP, endpoint{a("1.2.3.4"), 5060, true}, true},
		{"1.2.3.4:http", 0, endpoint{}, false},
		{"1.2.3.4:zero", ipvs.TCP, endpoint{a("1.2.3.4"), 0, true}, true},
		// IPv6: brackets and a port, or a bare literal without one.
		{"[2001:db8::1]:80", ipvs.TCP, endpoint{a("2001:db8::1"), 80, true}, true},
		{"[::ffff:1.2.3.4]:80", ipvs.TCP, endpoint{a("::ffff:1.2.3.4"), 80, true}, true},
		{"[::1]:http", ipvs.TCP, endpoint{a("::1"), 80, true}, true},
		{"[::1]", ipvs.TCP, endpoint{}, false},
		{"[::1]:", ipvs.TCP, endpoint{}, false},
		{"[::1]x80", ipvs.TCP, endpoint{}, false},
		{"[::1:80", ipvs.TCP, endpoint{}, false},
		{"[fe80::1%eth0]:80", ipvs.TCP, endpoint{}, false},
		{"::1", ipvs.TCP, endpoint{addr: a("::1")}, true},
		{"2001:db8::1:80", ipvs.TCP, endpoint{addr: a("2001:db8::1:80")}, true},
		// In brackets, an IPv4 address or a name loses its port.
		{"[1.2.3.4]:99", ipvs.TCP, endpoint{addr: a("1.2.3.4")}, true},
		{"[localhost]:99", ipvs.TCP, endpoint{addr: a("127.0.0.1")}, true},
		{"[1.2.3.4:80]:99", ipvs.TCP, endpoint{a("1.2.3.4"), 80, true}, true},
	} {
		got, ok := parseService(tt.in, tt.proto, grammarNames)
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(endpoint{}), cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" || ok != tt.ok {
			t.Errorf("parseService(%q, %v) = _, %v; want %v (-want +got):\n%s", tt.in, tt.proto, ok, tt.ok, diff)
		}
	}
}

// TestParseServiceEmptyHost checks that an empty host (":80", "[]:80") asks
// gethostbyname, which finds nothing on a real system; and that a string
// inet_aton takes never reaches the resolver.
func TestParseServiceEmptyHost(t *testing.T) {
	empty := staticNames{hosts: map[string]netip.Addr{"": netip.MustParseAddr("192.0.2.99")}}
	for _, in := range []string{":80", "[]:80"} {
		if _, ok := parseService(in, ipvs.TCP, staticNames{}); ok {
			t.Errorf("parseService(%q) succeeded", in)
		}
		if got, ok := parseService(in, ipvs.TCP, empty); !ok || got.addr != netip.MustParseAddr("192.0.2.99") {
			t.Errorf("parseService(%q) = %v, %v; want the resolver's answer for \"\"", in, got.addr, ok)
		}
	}
	got, ok := parseService("1.2.3.4 xx:80", ipvs.TCP, grammarNames)
	if !ok || got.addr != netip.MustParseAddr("1.2.3.4") {
		t.Errorf("parseService(\"1.2.3.4 xx:80\") = %v, %v; want 1.2.3.4", got.addr, ok)
	}
}

// TestParseNetmask checks -M for IPv4: inet_aton, so 24 is 0.0.0.24, then
// gethostbyname.
func TestParseNetmask(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ipvs.Netmask
		ok   bool
	}{
		{"255.255.255.0", 0xffffff00, true},
		{"24", 0x00000018, true},
		{"255.255.255.255", 0xffffffff, true},
		{"0", 0, true},
		{"mask24", 0xffffff00, true},
		{"junk", 0, false},
		{"v6only", 0, false},
		{"::1", 0, false},
	} {
		got, ok := parseNetmask(tt.in, grammarNames)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseNetmask(%q) = %#x, %v; want %#x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseMcastGroup checks --mcast-group: a colon means IPv6 and
// ff00::/8, otherwise IPv4 and 224.0.0.0/4, both strict inet_pton forms.
func TestParseMcastGroup(t *testing.T) {
	for _, tt := range []struct {
		in, want, msg string
	}{
		{"224.0.0.81", "224.0.0.81", ""},
		{"239.255.255.255", "239.255.255.255", ""},
		{"ff02::1", "ff02::1", ""},
		{"1.2.3.4", "", "invalid IPv4 mcast-group `1.2.3.4'"},
		{"240.0.0.1", "", "invalid IPv4 mcast-group `240.0.0.1'"},
		{"224.00.0.1", "", "invalid IPv4 mcast-group `224.00.0.1'"},
		{"224.1", "", "invalid IPv4 mcast-group `224.1'"},
		{"2001::1", "", "invalid IPv6 mcast-group `2001::1'"},
		{"::ffff:224.0.0.1", "", "invalid IPv6 mcast-group `::ffff:224.0.0.1'"},
		{"ff02::1%eth0", "", "invalid IPv6 mcast-group `ff02::1%eth0'"},
	} {
		got, msg := parseMcastGroup(tt.in)
		var want netip.Addr
		if tt.want != "" {
			want = netip.MustParseAddr(tt.want)
		}
		if got != want || msg != tt.msg {
			t.Errorf("parseMcastGroup(%q) = %v, %q; want %v, %q", tt.in, got, msg, want, tt.msg)
		}
	}
}

// TestParseSchedFlags checks parse_sched_flags (§3.5), and the choice made
// for "-b ," where ipvsadm 1.31 crashes.
func TestParseSchedFlags(t *testing.T) {
	for _, tt := range []struct {
		sched, list string
		want        ipvs.ServiceFlags
		msg         string
	}{
		{"", "flag-1", ipvs.FlagSched1, ""},
		{"rr", "flag-1,flag-2,flag-3", ipvs.FlagSched1 | ipvs.FlagSched2 | ipvs.FlagSched3, ""},
		{"sh", "sh-fallback,sh-port", ipvs.FlagSched1 | ipvs.FlagSched2, ""},
		{"mh", "mh-fallback,mh-port", ipvs.FlagSched1 | ipvs.FlagSched2, ""},
		{"sh", ",sh-port", ipvs.FlagSched2, ""},
		{"sh", "sh-port,,", ipvs.FlagSched2, ""},
		{"", "sh-port", 0, "incompatible scheduler flag `sh-port'"},
		{"wlc", "mh-port", 0, "incompatible scheduler flag `mh-port'"},
		{"sh", "mh-fallback", 0, "incompatible scheduler flag `mh-fallback'"},
		{"", "bogus", 0, "invalid scheduler flag `bogus'"},
		{"sh", "flag-1,bogus,sh-port", 0, "invalid scheduler flag `bogus'"},
		{"", "Flag-1", 0, "invalid scheduler flag `Flag-1'"},
		// The first bad item is reported.
		{"", "sh-port,bogus", 0, "incompatible scheduler flag `sh-port'"},
		// ipvsadm 1.31 dies of SIGSEGV here; a list of no items sets no
		// flag.
		{"", ",", 0, ""},
		{"sh", ",,,", 0, ""},
	} {
		got, msg := parseSchedFlags(tt.sched, tt.list)
		if got != tt.want || msg != tt.msg {
			t.Errorf("parseSchedFlags(%q, %q) = %#x, %q; want %#x, %q", tt.sched, tt.list, got, msg, tt.want, tt.msg)
		}
	}
}

// TestParseTunnelType checks --tun-type's three names.
func TestParseTunnelType(t *testing.T) {
	for in, want := range map[string]ipvs.TunnelType{"ipip": ipvs.IPIP, "gue": ipvs.GUE, "gre": ipvs.GRE} {
		if got, ok := parseTunnelType(in); got != want || !ok {
			t.Errorf("parseTunnelType(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"vxlan", "GRE", "", "ipip "} {
		if _, ok := parseTunnelType(in); ok {
			t.Errorf("parseTunnelType(%q) succeeded", in)
		}
	}
}
