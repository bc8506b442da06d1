//go:build linux

package ipvstest_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// timeouts reads GET_CONFIG.
func (c *tconn) timeouts() [3]uint32 {
	c.t.Helper()
	g, errno := c.get(cGetConfig)
	if errno != 0 {
		c.t.Fatalf("GET_CONFIG: %v", errno)
	}
	if g.Header.Command != cSetConfig {
		c.t.Fatalf("GET_CONFIG replied with command %d, want SET_CONFIG", g.Header.Command)
	}
	as, err := netlink.UnmarshalAttributes(g.Data)
	if err != nil || len(as) != 3 {
		c.t.Fatalf("GET_CONFIG attributes %+v (%v)", as, err)
	}
	var v [3]uint32
	for i, a := range as {
		if a.Type != uint16(aTCP+i) {
			c.t.Fatalf("attribute %d has type %d", i, a.Type)
		}
		v[i] = binary.NativeEndian.Uint32(a.Data)
	}
	return v
}

func TestConfigTimeouts(t *testing.T) {
	steps := []struct {
		name string
		as   []attr
		err  unix.Errno
		want [3]uint32
	}{
		{"defaults", nil, 0, [3]uint32{900, 120, 300}},
		{"all three", []attr{u32a(aTCP, 3600), u32a(aTCPFin, 60), u32a(aUDP, 30)}, 0, [3]uint32{3600, 60, 30}},
		{"zero keeps", []attr{u32a(aTCP, 0), u32a(aTCPFin, 0), u32a(aUDP, 10)}, 0, [3]uint32{3600, 60, 10}},
		{"absent keeps", []attr{u32a(aTCPFin, 61)}, 0, [3]uint32{3600, 61, 10}},
		{"largest is INT_MAX/HZ", []attr{u32a(aTCP, 8589934)}, 0, [3]uint32{8589934, 61, 10}},
		{"too large", []attr{u32a(aUDP, 8589935)}, unix.EINVAL, [3]uint32{8589934, 61, 10}},
		{"negative", []attr{u32a(aTCP, 1), u32a(aTCPFin, 0xffffffff)}, unix.EINVAL, [3]uint32{8589934, 61, 10}},
		{"short attribute", []attr{rawa(aTCP, 1, 0)}, unix.ERANGE, [3]uint32{8589934, 61, 10}},
	}
	c := dial(t, ipvstest.New())
	for _, st := range steps {
		if st.as != nil {
			if got := c.do(cSetConfig, st.as...); got != st.err {
				t.Fatalf("%s: errno %v, want %v", st.name, got, st.err)
			}
		}
		if diff := cmp.Diff(st.want, c.timeouts()); diff != "" {
			t.Errorf("%s: timeouts (-want +got):\n%s", st.name, diff)
		}
	}
}

func TestInfo(t *testing.T) {
	littleEndian(t)
	c := dial(t, ipvstest.New())
	g, errno := c.get(cGetInfo)
	if errno != 0 {
		t.Fatal(errno)
	}
	if g.Header.Command != cSetInfo {
		t.Errorf("reply command %d, want SET_INFO", g.Header.Command)
	}
	want := unhex(
		"08 00 01 00 01 02 01 00", // VERSION 1.2.1
		"08 00 02 00 00 10 00 00", // CONN_TAB_SIZE 4096
	)
	if diff := cmp.Diff(want, g.Data); diff != "" {
		t.Errorf("GET_INFO reply (-want +got):\n%s", diff)
	}
	if _, err := c.exec(cGetInfo, reqDump); errnoOf(t, err) != unix.EOPNOTSUPP {
		t.Errorf("GET_INFO dump: %v, want EOPNOTSUPP", err)
	}
}

func TestStatsAndZero(t *testing.T) {
	k := ipvstest.New()
	c := dial(t, k)
	a := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	b := fwmID(unix.AF_INET6, 2)
	c.mustDo(cNewService, nest(aService, full(a, "rr")...))
	c.mustDo(cNewService, nest(aService, full(b, "rr")...))
	c.mustDo(cNewDest, nest(aService, a...), nest(aDest, destAttrs("192.168.0.1", 80, fwdRoute, 1)...))
	c.mustDo(cNewDest, nest(aService, b...), nest(aDest, destAttrs("2001:db8::1", 0, fwdRoute, 1)...))

	keyA := ipvstest.ServiceKey{Protocol: unix.IPPROTO_TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}
	keyB := ipvstest.ServiceKey{AF: unix.AF_INET6, FWMark: 2}
	dstA := ipvstest.DestinationKey{Addr: netip.MustParseAddr("192.168.0.1"), Port: 80}
	dstB := ipvstest.DestinationKey{Addr: netip.MustParseAddr("2001:db8::1")}
	big := ipvstest.Stats{Conns: 1<<32 + 5, InPkts: 2, OutPkts: 3, InBytes: 1 << 40, OutBytes: 5,
		CPS: 6, InPPS: 7, OutPPS: 8, InBPS: 1<<33 + 9, OutBPS: 10}
	cut := big
	cut.Conns, cut.InBPS = 5, 9
	for _, err := range []error{
		k.SetServiceStats(keyA, big), k.SetServiceStats(keyB, big),
		k.SetDestinationStats(keyA, dstA, big), k.SetDestinationStats(keyB, dstB, big),
		k.SetConnCounts(keyA, dstA, 4, 5, 6),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := k.SetServiceStats(ipvstest.ServiceKey{FWMark: 3}, big); err == nil {
		t.Error("SetServiceStats on a missing service succeeded")
	}
	if err := k.SetConnCounts(keyA, ipvstest.DestinationKey{Addr: netip.MustParseAddr("192.168.0.2")}, 1, 1, 1); err == nil {
		t.Error("SetConnCounts on a missing destination succeeded")
	}

	svcs := c.services()
	if diff := cmp.Diff(&cut, svcs[0].Stats); diff != "" {
		t.Errorf("32-bit service stats (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&big, svcs[0].Stats64); diff != "" {
		t.Errorf("64-bit service stats (-want +got):\n%s", diff)
	}
	d := c.dests(a)[0]
	if diff := cmp.Diff(&big, d.Stats64); diff != "" {
		t.Errorf("64-bit destination stats (-want +got):\n%s", diff)
	}
	if d.Active != 4 || d.Inact != 5 || d.Persist != 6 {
		t.Errorf("connection counts %d/%d/%d, want 4/5/6", d.Active, d.Inact, d.Persist)
	}

	// Without STATS64, as before Linux 4.1.
	k.SetStats64(false)
	if s := c.services()[0]; s.Stats64 != nil || s.Stats == nil {
		t.Errorf("service stats without STATS64: %+v / %+v", s.Stats, s.Stats64)
	}
	if d := c.dests(a)[0]; d.Stats64 != nil || d.Stats == nil {
		t.Errorf("destination stats without STATS64: %+v / %+v", d.Stats, d.Stats64)
	}
	k.SetStats64(true)

	// ZERO of one service clears it and its destinations only.
	c.mustDo(cZero, nest(aService, b...))
	if s := c.services(); *s[0].Stats64 != big || *s[1].Stats64 != (ipvstest.Stats{}) {
		t.Errorf("after ZERO of one service: %+v, %+v", s[0].Stats64, s[1].Stats64)
	}
	if d := c.dests(b)[0]; *d.Stats64 != (ipvstest.Stats{}) {
		t.Errorf("destination of the zeroed service: %+v", d.Stats64)
	}
	// ZERO without a service clears everything but connection counts.
	c.mustDo(cZero)
	if s := c.services(); *s[0].Stats64 != (ipvstest.Stats{}) {
		t.Errorf("after ZERO: %+v", s[0].Stats64)
	}
	if d := c.dests(a)[0]; *d.Stats64 != (ipvstest.Stats{}) || d.Active != 4 || d.Inact != 5 || d.Persist != 6 {
		t.Errorf("destination after ZERO: %+v, conns %d/%d/%d", d.Stats64, d.Active, d.Inact, d.Persist)
	}
}

func TestFlushKeepsDaemonsAndTimeouts(t *testing.T) {
	c := dial(t, ipvstest.New())
	c.mustDo(cNewService, nest(aService, full(svcID(unix.IPPROTO_TCP, "10.0.0.1", 80), "rr")...))
	c.mustDo(cNewService, nest(aService, full(fwmID(unix.AF_INET, 1), "rr")...))
	c.mustDo(cNewDaemon, nest(aDaemon, u32a(mState, 1), stra(mIfn, "eth0"), u32a(mSyncID, 1)))
	c.mustDo(cSetConfig, u32a(aTCP, 10), u32a(aTCPFin, 0), u32a(aUDP, 0))
	c.mustDo(cFlush)
	if got := c.services(); len(got) != 0 {
		t.Errorf("services after FLUSH: %d", len(got))
	}
	if got := c.dump(cGetDaemon); len(got) != 1 {
		t.Errorf("daemons after FLUSH: %d", len(got))
	}
	if got := c.timeouts(); got != [3]uint32{10, 120, 300} {
		t.Errorf("timeouts after FLUSH: %v", got)
	}
	c.mustDo(cFlush) // an empty table flushes too
}
