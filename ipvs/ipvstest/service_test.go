//go:build linux

package ipvstest_test

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"golang.org/x/sys/unix"
)

// unhex turns annotated hex dumps into bytes; "#" starts a comment.
func unhex(lines ...string) []byte {
	var s strings.Builder
	for _, l := range lines {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		s.WriteString(strings.ReplaceAll(l, " ", ""))
	}
	b, err := hex.DecodeString(s.String())
	if err != nil {
		panic(err)
	}
	return b
}

// TestServiceGoldenFromIpvsadm sends the NEW_SERVICE payload ipvsadm 1.31
// produces for `-A -t 10.0.0.1:80 -s rr -p 600 -M 255.255.255.0 --pe sip
// -b flag-1` (reference §8.4) and checks the exact bytes GET_SERVICE answers
// with, laid out by hand from ip_vs_genl_fill_service.
func TestServiceGoldenFromIpvsadm(t *testing.T) {
	littleEndian(t)
	k := ipvstest.New()
	c := dial(t, k)

	req := unhex(
		"01 01 00 00",             // cmd NEW_SERVICE, version 1
		"5c 00 01 80",             // SERVICE, nested
		"06 00 01 00 02 00 00 00", // AF 2
		"06 00 02 00 06 00 00 00", // PROTOCOL 6
		"14 00 03 00 0a 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00", // ADDR
		"06 00 04 00 00 50 00 00",                                     // PORT 80
		"07 00 06 00 72 72 00 00",                                     // SCHED_NAME rr
		"08 00 0b 00 73 69 70 00",                                     // PE_NAME sip
		"0c 00 07 00 09 00 00 00 ff ff ff ff",                         // FLAGS {9, ~0}
		"08 00 08 00 58 02 00 00",                                     // TIMEOUT 600
		"08 00 09 00 ff ff ff 00",                                     // NETMASK /24
	)
	c.sendReference(req, 112, "NEW_SERVICE")

	key := ipvstest.ServiceKey{AF: unix.AF_INET, Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}
	if err := k.SetServiceStats(key, ipvstest.Stats{Conns: 0x1_0000_0002, InBytes: 0x0102030405060708}); err != nil {
		t.Fatal(err)
	}

	g, errno := c.get(cGetService, nest(aService, svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)...))
	if errno != 0 {
		t.Fatalf("GET_SERVICE: %v", errno)
	}
	want := unhex(
		"34 01 01 00", // SERVICE, 308 bytes, no NLA_F_NESTED (nla_nest_start_noflag)
		"06 00 01 00 02 00 00 00",
		"06 00 02 00 06 00 00 00",
		"14 00 03 00 0a 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00",
		"06 00 04 00 00 50 00 00",
		"07 00 06 00 72 72 00 00",
		"08 00 0b 00 73 69 70 00",
		"0c 00 07 00 0b 00 00 00 ff ff ff ff", // flags gain HASHED (0x2)
		"08 00 08 00 58 02 00 00",
		"08 00 09 00 ff ff ff 00",
		"5c 00 0a 00",             // STATS
		"08 00 01 00 02 00 00 00", // CONNS cut to 32 bits
		"08 00 02 00 00 00 00 00",
		"08 00 03 00 00 00 00 00",
		"0c 00 04 00 08 07 06 05 04 03 02 01", // INBYTES stays 64-bit
		"0c 00 05 00 00 00 00 00 00 00 00 00",
		"08 00 06 00 00 00 00 00",
		"08 00 07 00 00 00 00 00",
		"08 00 08 00 00 00 00 00",
		"08 00 09 00 00 00 00 00",
		"08 00 0a 00 00 00 00 00",
		"7c 00 0c 00", // STATS64
		"0c 00 01 00 02 00 00 00 01 00 00 00",
		"0c 00 02 00 00 00 00 00 00 00 00 00",
		"0c 00 03 00 00 00 00 00 00 00 00 00",
		"0c 00 04 00 08 07 06 05 04 03 02 01",
		"0c 00 05 00 00 00 00 00 00 00 00 00",
		"0c 00 06 00 00 00 00 00 00 00 00 00",
		"0c 00 07 00 00 00 00 00 00 00 00 00",
		"0c 00 08 00 00 00 00 00 00 00 00 00",
		"0c 00 09 00 00 00 00 00 00 00 00 00",
		"0c 00 0a 00 00 00 00 00 00 00 00 00",
	)
	if g.Header.Command != cNewService {
		t.Errorf("reply command %d, want NEW_SERVICE", g.Header.Command)
	}
	if diff := cmp.Diff(want, g.Data); diff != "" {
		t.Errorf("GET_SERVICE reply (-want +got):\n%s", diff)
	}
}

func TestServiceReplyLayouts(t *testing.T) {
	k := ipvstest.New()
	c := dial(t, k)
	c.mustDo(cNewService, nest(aService, full(svcID(unix.IPPROTO_UDP, "2001:db8::1", 53), "wlc")...))
	c.mustDo(cNewService, nest(aService, full(fwmID(unix.AF_INET, 7), "none")...))

	ignoreStats := cmpopts.IgnoreFields(tService{}, "Stats", "Stats64")
	want := []tService{{
		AF: unix.AF_INET6, Protocol: unix.IPPROTO_UDP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 53,
		Sched: "wlc", Flags: 0x2, Mask: 0xffffffff, Netmask: [4]byte{128, 0, 0, 0},
		Order: []uint16{sAF, sProtocol, sAddr, sPort, sSched, sFlags, sTimeout, sNetmask, sStats, sStats64},
	}, {
		AF: unix.AF_INET, FWMark: 7, Sched: "none", Flags: 0x2, Mask: 0xffffffff, Netmask: [4]byte{0xff, 0xff, 0xff, 0xff},
		Order: []uint16{sAF, sFWMark, sSched, sFlags, sTimeout, sNetmask, sStats, sStats64},
	}}
	if diff := cmpDiff(want, c.services(), ignoreStats); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
}

func TestServiceErrnos(t *testing.T) {
	tcp80 := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	tcp81 := svcID(unix.IPPROTO_TCP, "10.0.0.1", 81)
	v6 := svcID(unix.IPPROTO_TCP, "2001:db8::1", 80)
	without := func(as []attr, typ uint16) []attr {
		var out []attr
		for _, a := range as {
			if a.Type != typ {
				out = append(out, a)
			}
		}
		return out
	}
	with := func(as []attr, extra ...attr) []attr {
		return append(append([]attr{}, as...), extra...)
	}
	withNetmask := func(id []attr, m uint32) []attr {
		return with(without(full(id, "rr"), sNetmask), u32a(sNetmask, m))
	}

	tests := []struct {
		name  string
		cmd   uint8
		attrs []attr
		want  unix.Errno
	}{
		{"new existing", cNewService, []attr{nest(aService, full(tcp80, "rr")...)}, unix.EEXIST},
		{"new existing beats unknown scheduler", cNewService, []attr{nest(aService, full(tcp80, "nope")...)}, unix.EEXIST},
		{"new unknown scheduler", cNewService, []attr{nest(aService, full(tcp81, "nope")...)}, unix.ENOENT},
		{"new empty scheduler", cNewService, []attr{nest(aService, full(tcp81, "")...)}, unix.ENOENT},
		{"new twos is not in 6.1", cNewService, []attr{nest(aService, full(tcp81, "twos")...)}, unix.ENOENT},
		{"new scheduler none", cNewService, []attr{nest(aService, full(tcp81, "none")...)}, 0},
		{"new every 6.1 scheduler", cNewService, []attr{nest(aService, full(tcp81, "mh")...)}, 0},
		{"new unknown pe", cNewService, []attr{nest(aService, with(full(tcp81, "rr"), stra(sPE, "http"))...)}, unix.ENOENT},
		{"new empty pe", cNewService, []attr{nest(aService, with(full(tcp81, "rr"), stra(sPE, ""))...)}, 0},
		{"new ipv6 netmask 0", cNewService, []attr{nest(aService, withNetmask(v6, 0)...)}, unix.EINVAL},
		{"new ipv6 netmask 129", cNewService, []attr{nest(aService, withNetmask(v6, 129)...)}, unix.EINVAL},
		{"new ipv6 netmask 64", cNewService, []attr{nest(aService, withNetmask(v6, 64)...)}, 0},
		{"new ipv4 netmask unchecked", cNewService, []attr{nest(aService, withNetmask(tcp81, 0)...)}, 0},
		{"new af 3", cNewService, []attr{nest(aService, full(with([]attr{u16a(sAF, 3)}, tcp81[1:]...), "rr")...)}, unix.EAFNOSUPPORT},
		{"new af 3 beats missing scheduler", cNewService, []attr{nest(aService, with([]attr{u16a(sAF, 3)}, tcp81[1:]...)...)}, unix.EAFNOSUPPORT},
		{"new without af", cNewService, []attr{nest(aService, without(full(tcp81, "rr"), sAF)...)}, unix.EINVAL},
		{"new without port", cNewService, []attr{nest(aService, without(full(tcp81, "rr"), sPort)...)}, unix.EINVAL},
		{"new without address", cNewService, []attr{nest(aService, without(full(tcp81, "rr"), sAddr)...)}, unix.EINVAL},
		{"new without protocol", cNewService, []attr{nest(aService, without(full(tcp81, "rr"), sProtocol)...)}, unix.EINVAL},
		{"new without scheduler", cNewService, []attr{nest(aService, without(full(tcp81, "rr"), sSched)...)}, unix.EINVAL},
		{"new without flags", cNewService, []attr{nest(aService, without(full(tcp81, "rr"), sFlags)...)}, unix.EINVAL},
		{"new without timeout", cNewService, []attr{nest(aService, without(full(tcp81, "rr"), sTimeout)...)}, unix.EINVAL},
		{"new without netmask", cNewService, []attr{nest(aService, without(full(tcp81, "rr"), sNetmask)...)}, unix.EINVAL},
		{"new without service", cNewService, nil, unix.EINVAL},
		{"new scheduler name too long", cNewService, []attr{nest(aService, with(without(full(tcp81, "rr"), sSched), stra(sSched, "abcdefghijklmnop"))...)}, unix.EINVAL},
		{"new scheduler name without NUL", cNewService, []attr{nest(aService, with(without(full(tcp81, "rr"), sSched), rawa(sSched, 'r', 'r'))...)}, unix.EINVAL},
		{"new port of one byte", cNewService, []attr{nest(aService, with(without(full(tcp81, "rr"), sPort), rawa(sPort, 0))...)}, unix.EINVAL},
		{"new address too long", cNewService, []attr{nest(aService, with(without(full(tcp81, "rr"), sAddr), rawa(sAddr, make([]byte, 17)...))...)}, unix.EINVAL},
		{"service nest of two bytes", cNewService, []attr{rawa(aService, 0, 0)}, unix.ERANGE},
		{"new fwmark", cNewService, []attr{nest(aService, full(fwmID(unix.AF_INET, 1), "rr")...)}, 0},
		{"set missing", cSetService, []attr{nest(aService, full(tcp81, "rr")...)}, unix.ESRCH},
		{"set unknown scheduler", cSetService, []attr{nest(aService, full(tcp80, "nope")...)}, unix.ENOENT},
		{"set unknown pe", cSetService, []attr{nest(aService, with(full(tcp80, "rr"), stra(sPE, "x"))...)}, unix.ENOENT},
		{"set without scheduler", cSetService, []attr{nest(aService, without(full(tcp80, "rr"), sSched)...)}, unix.EINVAL},
		{"set missing beats incomplete", cSetService, []attr{nest(aService, tcp81...)}, unix.EINVAL},
		{"del missing", cDelService, []attr{nest(aService, tcp81...)}, unix.ESRCH},
		{"del without af", cDelService, []attr{nest(aService, tcp80[1:]...)}, unix.EINVAL},
		{"del af 3", cDelService, []attr{nest(aService, with([]attr{u16a(sAF, 3)}, tcp80[1:]...)...)}, unix.EAFNOSUPPORT},
		{"del other protocol", cDelService, []attr{nest(aService, svcID(unix.IPPROTO_UDP, "10.0.0.1", 80)...)}, unix.ESRCH},
		{"del existing", cDelService, []attr{nest(aService, tcp80...)}, 0},
		{"zero missing", cZero, []attr{nest(aService, tcp81...)}, unix.ESRCH},
		{"zero malformed", cZero, []attr{nest(aService, tcp80[1:]...)}, unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ipvstest.New())
			c.mustDo(cNewService, nest(aService, full(tcp80, "rr")...))
			if got := c.do(tt.cmd, tt.attrs...); got != tt.want {
				t.Fatalf("errno = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServiceGetErrnos(t *testing.T) {
	c := dial(t, ipvstest.New())
	c.mustDo(cNewService, nest(aService, full(svcID(unix.IPPROTO_TCP, "10.0.0.1", 80), "rr")...))
	tests := []struct {
		name  string
		attrs []attr
		want  unix.Errno
	}{
		{"found", []attr{nest(aService, svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)...)}, 0},
		{"missing", []attr{nest(aService, svcID(unix.IPPROTO_TCP, "10.0.0.2", 80)...)}, unix.ESRCH},
		{"no service attribute", nil, unix.EINVAL},
		{"no address", []attr{nest(aService, u16a(sAF, unix.AF_INET), u16a(sProtocol, 6), be16a(sPort, 80))}, unix.EINVAL},
		{"af 3", []attr{nest(aService, u16a(sAF, 3), u32a(sFWMark, 1))}, unix.EAFNOSUPPORT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := c.get(cGetService, tt.attrs...); got != tt.want {
				t.Fatalf("errno = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServiceFlagsFollowMask(t *testing.T) {
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	flags := func(f, m uint32) []attr {
		return append(append([]attr{}, id...),
			stra(sSched, "rr"),
			attr{Type: sFlags, Data: append(u32a(0, f).Data, u32a(0, m).Data...)},
			u32a(sTimeout, 0), rawa(sNetmask, 0xff, 0xff, 0xff, 0xff))
	}
	steps := []struct {
		name      string
		cmd       uint8
		f, m      uint32
		wantFlags uint32
	}{
		{"new takes flags under the mask", cNewService, 0x1 | 0x10, 0x1, 0x1 | 0x2},
		{"set adds a bit under its mask", cSetService, 0x4, 0x4, 0x1 | 0x2 | 0x4},
		{"set with mask 0 changes nothing", cSetService, 0, 0, 0x1 | 0x2 | 0x4},
		{"set clears under the mask", cSetService, 0, 0x1, 0x2 | 0x4},
		{"set cannot clear HASHED", cSetService, 0, 0xffffffff, 0x2},
	}
	for _, st := range steps {
		c.mustDo(st.cmd, nest(aService, flags(st.f, st.m)...))
		g, errno := c.get(cGetService, nest(aService, id...))
		if errno != 0 {
			t.Fatal(errno)
		}
		if got := parseService(t, g); got.Flags != st.wantFlags || got.Mask != 0xffffffff {
			t.Errorf("%s: flags %#x mask %#x, want %#x mask 0xffffffff", st.name, got.Flags, got.Mask, st.wantFlags)
		}
	}
}

func TestServiceSetReplacesSettings(t *testing.T) {
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	c.mustDo(cNewService, nest(aService, append(full(id, "rr"), stra(sPE, "sip"))...))

	set := append(append([]attr{}, id...),
		stra(sSched, "none"),
		rawa(sFlags, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
		u32a(sTimeout, 300),
		rawa(sNetmask, 0xff, 0xff, 0, 0))
	c.mustDo(cSetService, nest(aService, set...))

	got := c.services()
	want := []tService{{
		AF: unix.AF_INET, Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80,
		Sched: "none", Flags: 0x3, Mask: 0xffffffff, Timeout: 300, Netmask: [4]byte{0xff, 0xff, 0, 0},
	}}
	if diff := cmpDiff(want, got, cmpopts.IgnoreFields(tService{}, "Stats", "Stats64", "Order")); diff != "" {
		t.Errorf("after SET_SERVICE without PE_NAME (-want +got):\n%s", diff)
	}
}

func TestServiceIdentity(t *testing.T) {
	c := dial(t, ipvstest.New())
	c.mustDo(cNewService, nest(aService, full(fwmID(unix.AF_INET, 5), "rr")...))
	c.mustDo(cNewService, nest(aService, full(svcID(unix.IPPROTO_TCP, "10.0.0.1", 80), "rr")...))

	tests := []struct {
		name string
		id   []attr
		want unix.Errno
	}{
		// A fwmark service is TCP to the kernel whatever PROTOCOL says.
		{"fwmark with another protocol", append(fwmID(unix.AF_INET, 5), u16a(sProtocol, unix.IPPROTO_UDP)), 0},
		{"fwmark of another family", fwmID(unix.AF_INET6, 5), unix.ESRCH},
		// IPv4 compares only the first word of ADDR.
		{"ipv4 with junk after the address", []attr{u16a(sAF, unix.AF_INET), u16a(sProtocol, 6),
			rawa(sAddr, 10, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9), be16a(sPort, 80)}, 0},
		// A short ADDR is zero-filled (nla_memcpy).
		{"ipv4 address of four bytes", []attr{u16a(sAF, unix.AF_INET), u16a(sProtocol, 6),
			rawa(sAddr, 10, 0, 0, 1), be16a(sPort, 80)}, 0},
		{"port in host order is another port", []attr{u16a(sAF, unix.AF_INET), u16a(sProtocol, 6),
			addra(sAddr, "10.0.0.1"), u16a(sPort, 80)}, unix.ESRCH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, errno := c.get(cGetService, nest(aService, tt.id...))
			if errno != tt.want {
				t.Fatalf("errno = %v, want %v", errno, tt.want)
			}
			if errno == 0 {
				if s := parseService(t, g); s.Addr.IsValid() && s.Addr != netip.MustParseAddr("10.0.0.1") {
					t.Errorf("reported address %v", s.Addr)
				}
			}
		})
	}
}

func TestServiceFWMarkZeroIsTCPAnyService(t *testing.T) {
	// A FWMARK attribute of 0 leaves a TCP service 0.0.0.0:0, as
	// ip_vs_genl_parse_service reads it.
	c := dial(t, ipvstest.New())
	c.mustDo(cNewService, nest(aService, full(fwmID(unix.AF_INET, 0), "rr")...))
	got := c.services()
	want := []tService{{AF: unix.AF_INET, Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("0.0.0.0"), Sched: "rr"}}
	if diff := cmpDiff(want, got, cmpopts.IgnoreFields(tService{}, "Stats", "Stats64", "Order", "Flags", "Mask", "Netmask")); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
}

func TestServiceDumpOrderAddressesThenFWMarks(t *testing.T) {
	c := dial(t, ipvstest.New())
	c.mustDo(cNewService, nest(aService, full(svcID(unix.IPPROTO_TCP, "10.0.0.2", 80), "rr")...))
	c.mustDo(cNewService, nest(aService, full(fwmID(unix.AF_INET, 9), "rr")...))
	c.mustDo(cNewService, nest(aService, full(svcID(unix.IPPROTO_UDP, "10.0.0.1", 53), "rr")...))
	c.mustDo(cNewService, nest(aService, full(fwmID(unix.AF_INET6, 3), "rr")...))
	c.mustDo(cNewService, nest(aService, full(svcID(unix.IPPROTO_SCTP, "2001:db8::1", 9), "rr")...))

	var got []string
	for _, s := range c.services() {
		if s.FWMark != 0 {
			got = append(got, "fwm "+netip.AddrFrom4([4]byte{0, 0, 0, byte(s.FWMark)}).String())
		} else {
			got = append(got, netip.AddrPortFrom(s.Addr, s.Port).String())
		}
	}
	want := []string{"10.0.0.2:80", "10.0.0.1:53", "[2001:db8::1]:9", "fwm 0.0.0.9", "fwm 0.0.0.3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dump order (-want +got):\n%s", diff)
	}
}

func TestServicePersistenceTimeoutWrapsInJiffies(t *testing.T) {
	// svc->timeout = seconds * HZ in an unsigned int; with HZ=250,
	// 17179870 s is 4294967500 jiffies, which wraps to 204, read back as 0.
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	as := append(full(id, "rr")[:len(full(id, "rr"))-2], u32a(sTimeout, 17179870), rawa(sNetmask, 0xff, 0xff, 0xff, 0xff))
	c.mustDo(cNewService, nest(aService, as...))
	if got := c.services()[0].Timeout; got != 0 {
		t.Fatalf("timeout = %d, want 0", got)
	}
}

func TestServiceDelete(t *testing.T) {
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	c.mustDo(cNewService, nest(aService, full(id, "rr")...))
	c.mustDo(cNewDest, nest(aService, id...), nest(aDest, destAttrs("192.168.0.1", 80, fwdRoute, 1)...))
	c.mustDo(cDelService, nest(aService, id...))
	if got := c.services(); len(got) != 0 {
		t.Fatalf("services after delete: %+v", got)
	}
	// A service created again starts without destinations.
	c.mustDo(cNewService, nest(aService, full(id, "rr")...))
	if got := c.dests(id); len(got) != 0 {
		t.Fatalf("destinations of the new service: %+v", got)
	}
}
