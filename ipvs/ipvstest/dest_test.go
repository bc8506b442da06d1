//go:build linux

package ipvstest_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"golang.org/x/sys/unix"
)

// zeroStats are the STATS and STATS64 nests of untouched counters.
var zeroStats = []string{
	"5c 00 0a 00",
	"08 00 01 00 00 00 00 00", "08 00 02 00 00 00 00 00", "08 00 03 00 00 00 00 00",
	"0c 00 04 00 00 00 00 00 00 00 00 00", "0c 00 05 00 00 00 00 00 00 00 00 00",
	"08 00 06 00 00 00 00 00", "08 00 07 00 00 00 00 00", "08 00 08 00 00 00 00 00",
	"08 00 09 00 00 00 00 00", "08 00 0a 00 00 00 00 00",
	"7c 00 0c 00",
	"0c 00 01 00 00 00 00 00 00 00 00 00", "0c 00 02 00 00 00 00 00 00 00 00 00",
	"0c 00 03 00 00 00 00 00 00 00 00 00", "0c 00 04 00 00 00 00 00 00 00 00 00",
	"0c 00 05 00 00 00 00 00 00 00 00 00", "0c 00 06 00 00 00 00 00 00 00 00 00",
	"0c 00 07 00 00 00 00 00 00 00 00 00", "0c 00 08 00 00 00 00 00 00 00 00 00",
	"0c 00 09 00 00 00 00 00 00 00 00 00", "0c 00 0a 00 00 00 00 00 00 00 00 00",
}

// TestDestGoldenFromIpvsadm sends the NEW_DEST ipvsadm 1.31 produces for
// `-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 3 -x 100 -y 10` (reference
// §8.4) and checks the bytes of the GET_DEST dump against
// ip_vs_genl_fill_dest's layout.
func TestDestGoldenFromIpvsadm(t *testing.T) {
	littleEndian(t)
	k := ipvstest.New()
	c := dial(t, k)
	c.mustDo(cNewService, nest(aService, full(svcID(unix.IPPROTO_TCP, "10.0.0.1", 80), "wlc")...))

	req := unhex(
		"05 01 00 00", // NEW_DEST
		"54 00 01 80", // SERVICE
		"06 00 01 00 02 00 00 00",
		"06 00 02 00 06 00 00 00",
		"14 00 03 00 0a 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00",
		"06 00 04 00 00 50 00 00",
		"05 00 06 00 00 00 00 00",             // SCHED_NAME ""
		"0c 00 07 00 00 00 00 00 ff ff ff ff", // FLAGS {0, ~0}
		"08 00 08 00 00 00 00 00",
		"08 00 09 00 ff ff ff ff",
		"60 00 02 80",             // DEST
		"06 00 0b 00 02 00 00 00", // ADDR_FAMILY
		"14 00 01 00 c0 a8 00 01 00 00 00 00 00 00 00 00 00 00 00 00",
		"06 00 02 00 1f 90 00 00", // PORT 8080
		"08 00 03 00 00 00 00 00", // FWD_METHOD masq
		"08 00 04 00 03 00 00 00", // WEIGHT 3
		"05 00 0d 00 00 00 00 00", // TUN_TYPE
		"06 00 0e 00 00 00 00 00", // TUN_PORT
		"06 00 0f 00 00 00 00 00", // TUN_FLAGS
		"08 00 05 00 64 00 00 00", // U_THRESH 100
		"08 00 06 00 0a 00 00 00", // L_THRESH 10
	)
	c.sendReference(req, 200, "NEW_DEST")
	svc := ipvstest.ServiceKey{Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}
	dst := ipvstest.DestinationKey{Addr: netip.MustParseAddr("192.168.0.1"), Port: 8080}
	if err := k.SetConnCounts(svc, dst, 1, 2, 3); err != nil {
		t.Fatal(err)
	}

	got := c.dump(cGetDest, nest(aService, svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)...))
	if len(got) != 1 || got[0].Header.Command != cNewDest {
		t.Fatalf("dump = %+v, want one NEW_DEST", got)
	}
	want := unhex(append([]string{
		"50 01 02 00", // DEST, 336 bytes, no NLA_F_NESTED
		"14 00 01 00 c0 a8 00 01 00 00 00 00 00 00 00 00 00 00 00 00",
		"06 00 02 00 1f 90 00 00",
		"08 00 03 00 00 00 00 00",
		"08 00 04 00 03 00 00 00",
		"05 00 0d 00 00 00 00 00",
		"06 00 0e 00 00 00 00 00",
		"06 00 0f 00 00 00 00 00",
		"08 00 05 00 64 00 00 00",
		"08 00 06 00 0a 00 00 00",
		"08 00 07 00 01 00 00 00", // ACTIVE_CONNS
		"08 00 08 00 02 00 00 00", // INACT_CONNS
		"08 00 09 00 03 00 00 00", // PERSIST_CONNS
		"06 00 0b 00 02 00 00 00", // ADDR_FAMILY
	}, zeroStats...)...)
	if diff := cmp.Diff(want, got[0].Data); diff != "" {
		t.Errorf("GET_DEST reply (-want +got):\n%s", diff)
	}
}

func TestDestNewestFirstAndUpdatesInPlace(t *testing.T) {
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	c.mustDo(cNewService, nest(aService, full(id, "wrr")...))
	for _, a := range []string{"192.168.0.1", "192.168.0.2", "192.168.0.3"} {
		c.mustDo(cNewDest, nest(aService, id...), nest(aDest, destAttrs(a, 80, fwdRoute, 1)...))
	}
	// SET_DEST changes a destination without moving it.
	set := destAttrs("192.168.0.2", 80, fwdTunnel, 7)
	set = append(set[:len(set)-2], u32a(dUThresh, 50), u32a(dLThresh, 5))
	set = append(set, u8a(dTunType, 1), be16a(dTunPort, 6080), u16a(dTunFlags, 1))
	c.mustDo(cSetDest, nest(aService, id...), nest(aDest, set...))

	want := []tDest{
		{Addr: netip.MustParseAddr("192.168.0.3"), Port: 80, Fwd: fwdRoute, Weight: 1, AF: unix.AF_INET},
		{Addr: netip.MustParseAddr("192.168.0.2"), Port: 80, Fwd: fwdTunnel, Weight: 7, AF: unix.AF_INET,
			UThresh: 50, LThresh: 5, TunType: 1, TunPort: 6080, TunFlags: 1},
		{Addr: netip.MustParseAddr("192.168.0.1"), Port: 80, Fwd: fwdRoute, Weight: 1, AF: unix.AF_INET},
	}
	got := c.dests(id)
	if diff := cmpDiff(want, got, cmpopts.IgnoreFields(tDest{}, "Stats", "Stats64", "Order")); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
	wantOrder := []uint16{dAddr, dPort, dFwd, dWeight, dTunType, dTunPort, dTunFlags, dUThresh, dLThresh,
		dActive, dInact, dPersist, dAF, dStats, dStats64}
	if diff := cmp.Diff(wantOrder, got[0].Order); diff != "" {
		t.Errorf("attribute order (-want +got):\n%s", diff)
	}
}

func TestDestErrnos(t *testing.T) {
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	missing := svcID(unix.IPPROTO_TCP, "10.0.0.9", 80)
	d := func(addr string, port uint16, fwd, weight uint32, extra ...attr) attr {
		as := destAttrs(addr, port, fwd, weight)
		// Replace attributes by type, keeping the rest.
		for _, e := range extra {
			replaced := false
			for i := range as {
				if as[i].Type == e.Type {
					as[i], replaced = e, true
				}
			}
			if !replaced {
				as = append(as, e)
			}
		}
		return nest(aDest, as...)
	}
	drop := func(addr string, typ uint16) attr {
		var as []attr
		for _, a := range destAttrs(addr, 80, fwdRoute, 1) {
			if a.Type != typ {
				as = append(as, a)
			}
		}
		return nest(aDest, as...)
	}
	svc := nest(aService, id...)

	tests := []struct {
		name string
		cmd  uint8
		as   []attr
		want unix.Errno
	}{
		{"new", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdRoute, 1)}, 0},
		{"new existing", cNewDest, []attr{svc, d("192.168.0.1", 80, fwdMasq, 5)}, unix.EEXIST},
		{"new existing other port", cNewDest, []attr{svc, d("192.168.0.1", 81, fwdRoute, 1)}, 0},
		{"new negative weight", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdRoute, 0xffffffff)}, unix.ERANGE},
		{"new negative weight beats existing", cNewDest, []attr{svc, d("192.168.0.1", 80, fwdRoute, 0x80000000)}, unix.ERANGE},
		{"new weight 2^31-1", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdRoute, 0x7fffffff)}, 0},
		{"new lower above upper", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdRoute, 1, u32a(dLThresh, 5))}, unix.ERANGE},
		{"new lower equal upper", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdRoute, 1, u32a(dLThresh, 5), u32a(dUThresh, 5))}, 0},
		{"new gue without port", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdTunnel, 1, u8a(dTunType, 1))}, unix.EINVAL},
		{"new gue with port", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdTunnel, 1, u8a(dTunType, 1), be16a(dTunPort, 6080))}, 0},
		{"new gre without port", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdTunnel, 1, u8a(dTunType, 2))}, 0},
		{"new missing service", cNewDest, []attr{nest(aService, missing...), d("192.168.0.9", 80, fwdRoute, 1)}, unix.ESRCH},
		{"new missing service beats bad dest", cNewDest, []attr{nest(aService, missing...), nest(aDest)}, unix.ESRCH},
		{"new without service", cNewDest, []attr{d("192.168.0.9", 80, fwdRoute, 1)}, unix.EINVAL},
		{"new without dest", cNewDest, []attr{svc}, unix.EINVAL},
		{"new without address", cNewDest, []attr{svc, drop("192.168.0.9", dAddr)}, unix.EINVAL},
		{"new without port", cNewDest, []attr{svc, drop("192.168.0.9", dPort)}, unix.EINVAL},
		{"new without forwarding", cNewDest, []attr{svc, drop("192.168.0.9", dFwd)}, unix.EINVAL},
		{"new without weight", cNewDest, []attr{svc, drop("192.168.0.9", dWeight)}, unix.EINVAL},
		{"new without upper threshold", cNewDest, []attr{svc, drop("192.168.0.9", dUThresh)}, unix.EINVAL},
		{"new without lower threshold", cNewDest, []attr{svc, drop("192.168.0.9", dLThresh)}, unix.EINVAL},
		{"new without tunnel attributes", cNewDest, []attr{svc, nest(aDest, append(destAttrs("192.168.0.9", 80, fwdRoute, 1)[:5], u32a(dUThresh, 0), u32a(dLThresh, 0))...)}, 0},
		{"new without address family takes the service's", cNewDest, []attr{svc, drop("192.168.0.9", dAF)}, 0},
		{"new address family 3", cNewDest, []attr{svc, d("192.168.0.9", 80, fwdRoute, 1, u16a(dAF, 3))}, unix.EAFNOSUPPORT},
		{"new ipv6 on ipv4 service, direct routing", cNewDest, []attr{svc, d("2001:db8::9", 80, fwdRoute, 1)}, unix.EINVAL},
		{"new ipv6 on ipv4 service, masquerading", cNewDest, []attr{svc, d("2001:db8::9", 80, fwdMasq, 1)}, unix.EINVAL},
		{"new ipv6 on ipv4 service, tunnel", cNewDest, []attr{svc, d("2001:db8::9", 80, fwdTunnel, 1)}, 0},
		{"new forwarding masked to 3 bits", cNewDest, []attr{svc, d("192.168.0.9", 80, 0x1003, 1)}, 0},
		{"new 0.0.0.0", cNewDest, []attr{svc, d("0.0.0.0", 80, fwdRoute, 1)}, unix.EINVAL},
		{"new 0.1.2.3", cNewDest, []attr{svc, d("0.1.2.3", 80, fwdRoute, 1)}, unix.EINVAL},
		{"new multicast", cNewDest, []attr{svc, d("224.0.0.1", 80, fwdRoute, 1)}, unix.EINVAL},
		{"new limited broadcast", cNewDest, []attr{svc, d("255.255.255.255", 80, fwdRoute, 1)}, unix.EINVAL},
		{"new loopback broadcast", cNewDest, []attr{svc, d("127.255.255.255", 80, fwdRoute, 1)}, unix.EINVAL},
		{"new loopback", cNewDest, []attr{svc, d("127.0.0.1", 80, fwdRoute, 1)}, 0},
		{"new class E", cNewDest, []attr{svc, d("240.0.0.1", 80, fwdRoute, 1)}, 0},
		{"new ipv6 unspecified", cNewDest, []attr{svc, d("::", 80, fwdTunnel, 1)}, unix.EINVAL},
		{"new ipv6 multicast", cNewDest, []attr{svc, d("ff02::1", 80, fwdTunnel, 1)}, unix.EINVAL},
		{"new ipv6 link-local", cNewDest, []attr{svc, d("fe80::1", 80, fwdTunnel, 1)}, unix.EINVAL},
		{"new ipv6 mapped", cNewDest, []attr{svc, d("::ffff:192.168.0.9", 80, fwdTunnel, 1)}, unix.EINVAL},
		{"new ipv6 loopback", cNewDest, []attr{svc, d("::1", 80, fwdTunnel, 1)}, 0},
		{"set", cSetDest, []attr{svc, d("192.168.0.1", 80, fwdMasq, 0)}, 0},
		{"set missing", cSetDest, []attr{svc, d("192.168.0.9", 80, fwdRoute, 1)}, unix.ENOENT},
		{"set missing service", cSetDest, []attr{nest(aService, missing...), d("192.168.0.1", 80, fwdRoute, 1)}, unix.ESRCH},
		{"set negative weight", cSetDest, []attr{svc, d("192.168.0.1", 80, fwdRoute, 0xffffffff)}, unix.ERANGE},
		{"set lower above upper", cSetDest, []attr{svc, d("192.168.0.1", 80, fwdRoute, 1, u32a(dLThresh, 1))}, unix.ERANGE},
		{"set gue without port", cSetDest, []attr{svc, d("192.168.0.1", 80, fwdTunnel, 1, u8a(dTunType, 1))}, unix.EINVAL},
		{"set without weight", cSetDest, []attr{svc, drop("192.168.0.1", dWeight)}, unix.EINVAL},
		{"del", cDelDest, []attr{svc, nest(aDest, addra(dAddr, "192.168.0.1"), be16a(dPort, 80))}, 0},
		{"del missing", cDelDest, []attr{svc, nest(aDest, addra(dAddr, "192.168.0.9"), be16a(dPort, 80))}, unix.ENOENT},
		{"del other port", cDelDest, []attr{svc, nest(aDest, addra(dAddr, "192.168.0.1"), be16a(dPort, 81))}, unix.ENOENT},
		{"del missing service", cDelDest, []attr{nest(aService, missing...), nest(aDest, addra(dAddr, "192.168.0.1"), be16a(dPort, 80))}, unix.ESRCH},
		{"del without port", cDelDest, []attr{svc, nest(aDest, addra(dAddr, "192.168.0.1"))}, unix.EINVAL},
		{"del other family is only not found", cDelDest, []attr{svc, nest(aDest, u16a(dAF, unix.AF_INET6), addra(dAddr, "2001:db8::1"), be16a(dPort, 80))}, unix.ENOENT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ipvstest.New())
			c.mustDo(cNewService, nest(aService, full(id, "rr")...))
			c.mustDo(cNewDest, svc, d("192.168.0.1", 80, fwdRoute, 1))
			if got := c.do(tt.cmd, tt.as...); got != tt.want {
				t.Fatalf("errno = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDestMixedFamilyAndSyncDaemon(t *testing.T) {
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	svc := nest(aService, id...)
	v6 := nest(aDest, destAttrs("2001:db8::1", 80, fwdTunnel, 1)...)
	master := nest(aDaemon, u32a(mState, 1), stra(mIfn, "eth0"), u32a(mSyncID, 1))
	c.mustDo(cNewService, nest(aService, full(id, "rr")...))

	// While a sync daemon runs, no destination may differ in family
	// from its service, tunnel or not.
	c.mustDo(cNewDaemon, master)
	if got := c.do(cNewDest, svc, v6); got != unix.EINVAL {
		t.Fatalf("mixed family with a daemon: errno %v, want EINVAL", got)
	}
	c.mustDo(cDelDaemon, nest(aDaemon, u32a(mState, 1)))

	// And no daemon may start while such a destination exists.
	c.mustDo(cNewDest, svc, v6)
	if got := c.do(cNewDaemon, master); got != unix.EINVAL {
		t.Fatalf("daemon with a mixed family destination: errno %v, want EINVAL", got)
	}
	c.mustDo(cDelDest, svc, nest(aDest, u16a(dAF, unix.AF_INET6), addra(dAddr, "2001:db8::1"), be16a(dPort, 80)))
	c.mustDo(cNewDaemon, master)

	got := c.dests(id)
	if len(got) != 0 {
		t.Fatalf("destinations: %+v", got)
	}
}

func TestDestMixedFamilyReply(t *testing.T) {
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	c.mustDo(cNewService, nest(aService, full(id, "rr")...))
	c.mustDo(cNewDest, nest(aService, id...), nest(aDest, destAttrs("2001:db8::1", 8080, fwdTunnel, 2)...))
	want := []tDest{{Addr: netip.MustParseAddr("2001:db8::1"), Port: 8080, Fwd: fwdTunnel, Weight: 2, AF: unix.AF_INET6}}
	if diff := cmpDiff(want, c.dests(id), cmpopts.IgnoreFields(tDest{}, "Stats", "Stats64", "Order")); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
}

func TestDestDumpWithoutService(t *testing.T) {
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	c.mustDo(cNewService, nest(aService, full(id, "rr")...))
	c.mustDo(cNewDest, nest(aService, id...), nest(aDest, destAttrs("192.168.0.1", 80, fwdRoute, 1)...))

	tests := []struct {
		name string
		as   []attr
		want int
	}{
		{"service", []attr{nest(aService, id...)}, 1},
		{"missing service", []attr{nest(aService, svcID(unix.IPPROTO_TCP, "10.0.0.2", 80)...)}, 0},
		{"no service attribute", nil, 0},
		{"malformed service", []attr{nest(aService, id[1:]...)}, 0},
		{"short top-level attribute", []attr{rawa(aTCP, 1)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(c.dump(cGetDest, tt.as...)); got != tt.want {
				t.Fatalf("%d destinations, want %d", got, tt.want)
			}
		})
	}

	// GET_DEST has no doit.
	if _, errno := c.get(cGetDest, nest(aService, id...)); errno != unix.EOPNOTSUPP {
		t.Fatalf("GET_DEST without NLM_F_DUMP: errno %v, want EOPNOTSUPP", errno)
	}
}

func TestDestIPv4IgnoresAddressTail(t *testing.T) {
	c := dial(t, ipvstest.New())
	id := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	c.mustDo(cNewService, nest(aService, full(id, "rr")...))
	// ipvsadm leaves the service's address in ADDR's unused bytes; the
	// kernel keeps only the first word of an IPv4 destination.
	as := destAttrs("192.168.0.1", 80, fwdRoute, 1)
	as[1] = rawa(dAddr, 192, 168, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	c.mustDo(cNewDest, nest(aService, id...), nest(aDest, as...))
	c.mustDo(cDelDest, nest(aService, id...), nest(aDest, rawa(dAddr, 192, 168, 0, 1), be16a(dPort, 80)))
}
