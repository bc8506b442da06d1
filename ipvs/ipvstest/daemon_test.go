//go:build linux

package ipvstest_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// TestDaemonGoldenFromIpvsadm starts the backup daemon of reference §8.4
// (`--start-daemon backup --mcast-interface eth1 --syncid 9 --sync-maxlen
// 1400 --mcast-group ff02::1234 --mcast-port 8849 --mcast-ttl 2`) from its
// exact bytes and reads it back.
func TestDaemonGoldenFromIpvsadm(t *testing.T) {
	littleEndian(t)
	c := dial(t, ipvstest.New())
	req := unhex(
		"09 01 00 00",                         // NEW_DAEMON
		"4c 00 03 80",                         // DAEMON, 76 bytes
		"08 00 01 00 02 00 00 00",             // STATE backup
		"09 00 02 00 65 74 68 31 00 00 00 00", // MCAST_IFN eth1
		"08 00 03 00 09 00 00 00",             // SYNC_ID 9
		"06 00 04 00 78 05 00 00",             // SYNC_MAXLEN 1400
		"06 00 07 00 91 22 00 00",             // MCAST_PORT 8849, host order
		"05 00 08 00 02 00 00 00",             // MCAST_TTL 2
		"14 00 06 00 ff 02 00 00 00 00 00 00 00 00 00 00 00 00 12 34", // MCAST_GROUP6
	)
	if _, err := c.c.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: reqAck},
		Data:   req,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.c.Receive(); err != nil {
		t.Fatalf("NEW_DAEMON: %v", err)
	}

	got := c.dump(cGetDaemon)
	if len(got) != 1 {
		t.Fatalf("%d daemons, want 1", len(got))
	}
	want := unhex(
		"4c 00 03 00",
		"08 00 01 00 02 00 00 00",
		"09 00 02 00 65 74 68 31 00 00 00 00",
		"08 00 03 00 09 00 00 00",
		"06 00 04 00 78 05 00 00",
		"06 00 07 00 91 22 00 00",
		"05 00 08 00 02 00 00 00",
		"14 00 06 00 ff 02 00 00 00 00 00 00 00 00 00 00 00 00 12 34",
	)
	if diff := cmp.Diff(want, got[0].Data); diff != "" {
		t.Errorf("GET_DAEMON reply (-want +got):\n%s", diff)
	}
}

func TestDaemonDefaults(t *testing.T) {
	group := netip.MustParseAddr("224.0.0.81")
	order := []uint16{mState, mIfn, mSyncID, mMaxLen, mPort, mTTL, mGroup}
	order6 := []uint16{mState, mIfn, mSyncID, mMaxLen, mPort, mTTL, mGroup6}
	tests := []struct {
		name  string
		extra []attr
		state uint32
		ifn   string
		want  tDaemon
	}{
		{"master on eth0", nil, 1, "eth0",
			tDaemon{State: 1, Ifn: "eth0", SyncID: 7, MaxLen: 1472, Port: 8848, TTL: 1, Group: group, Order: order}},
		{"master ignores the MTU of lo", nil, 1, "lo",
			tDaemon{State: 1, Ifn: "lo", SyncID: 7, MaxLen: 1472, Port: 8848, TTL: 1, Group: group, Order: order}},
		{"backup takes the MTU of lo", nil, 2, "lo",
			tDaemon{State: 2, Ifn: "lo", SyncID: 7, MaxLen: 65507, Port: 8848, TTL: 1, Group: group, Order: order}},
		{"backup on eth1", nil, 2, "eth1",
			tDaemon{State: 2, Ifn: "eth1", SyncID: 7, MaxLen: 1472, Port: 8848, TTL: 1, Group: group, Order: order}},
		{"master over ipv6", []attr{addra(mGroup6, "ff02::81")}, 1, "eth0",
			tDaemon{State: 1, Ifn: "eth0", SyncID: 7, MaxLen: 1452, Port: 8848, TTL: 1, Group: netip.MustParseAddr("ff02::81"), Order: order6}},
		{"master keeps a small maxlen", []attr{u16a(mMaxLen, 100)}, 1, "eth0",
			tDaemon{State: 1, Ifn: "eth0", SyncID: 7, MaxLen: 100, Port: 8848, TTL: 1, Group: group, Order: order}},
		{"backup raises a small maxlen to 1024", []attr{u16a(mMaxLen, 100)}, 2, "eth0",
			tDaemon{State: 2, Ifn: "eth0", SyncID: 7, MaxLen: 1024, Port: 8848, TTL: 1, Group: group, Order: order}},
		{"maxlen cut to fit a datagram", []attr{u16a(mMaxLen, 65535)}, 1, "eth0",
			tDaemon{State: 1, Ifn: "eth0", SyncID: 7, MaxLen: 65507, Port: 8848, TTL: 1, Group: group, Order: order}},
		{"zero port and ttl mean default", []attr{u16a(mPort, 0), u8a(mTTL, 0)}, 1, "eth0",
			tDaemon{State: 1, Ifn: "eth0", SyncID: 7, MaxLen: 1472, Port: 8848, TTL: 1, Group: group, Order: order}},
		{"ipv4 group", []attr{rawa(mGroup, 239, 1, 2, 3), u16a(mPort, 9000), u8a(mTTL, 4)}, 1, "eth0",
			tDaemon{State: 1, Ifn: "eth0", SyncID: 7, MaxLen: 1472, Port: 9000, TTL: 4, Group: netip.MustParseAddr("239.1.2.3"), Order: order}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ipvstest.New())
			as := append([]attr{u32a(mState, tt.state), stra(mIfn, tt.ifn), u32a(mSyncID, 7)}, tt.extra...)
			c.mustDo(cNewDaemon, nest(aDaemon, as...))
			got := c.dump(cGetDaemon)
			if len(got) != 1 {
				t.Fatalf("%d daemons, want 1", len(got))
			}
			if diff := cmpDiff(tt.want, parseDaemon(t, got[0])); diff != "" {
				t.Errorf("daemon (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDaemonDumpMasterFirst(t *testing.T) {
	c := dial(t, ipvstest.New())
	if got := c.dump(cGetDaemon); len(got) != 0 {
		t.Fatalf("daemons before any start: %d", len(got))
	}
	c.mustDo(cNewDaemon, nest(aDaemon, u32a(mState, 2), stra(mIfn, "eth1"), u32a(mSyncID, 2)))
	c.mustDo(cNewDaemon, nest(aDaemon, u32a(mState, 1), stra(mIfn, "eth0"), u32a(mSyncID, 1)))
	var states []uint32
	for _, g := range c.dump(cGetDaemon) {
		states = append(states, parseDaemon(t, g).State)
	}
	if diff := cmp.Diff([]uint32{1, 2}, states); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	c.mustDo(cDelDaemon, nest(aDaemon, u32a(mState, 1), stra(mIfn, ""), u32a(mSyncID, 0)))
	if got := c.dump(cGetDaemon); len(got) != 1 || parseDaemon(t, got[0]).State != 2 {
		t.Fatalf("after stopping the master: %+v", got)
	}
}

func TestDaemonErrnos(t *testing.T) {
	d := func(as ...attr) attr { return nest(aDaemon, as...) }
	tests := []struct {
		name string
		cmd  uint8
		as   []attr
		want unix.Errno
	}{
		{"start", cNewDaemon, []attr{d(u32a(mState, 2), stra(mIfn, "eth0"), u32a(mSyncID, 1))}, 0},
		{"start running", cNewDaemon, []attr{d(u32a(mState, 1), stra(mIfn, "eth1"), u32a(mSyncID, 3))}, unix.EEXIST},
		{"start unknown interface", cNewDaemon, []attr{d(u32a(mState, 2), stra(mIfn, "eth9"), u32a(mSyncID, 1))}, unix.ENODEV},
		{"start empty interface", cNewDaemon, []attr{d(u32a(mState, 2), stra(mIfn, ""), u32a(mSyncID, 1))}, unix.ENODEV},
		{"start interface name too long", cNewDaemon, []attr{d(u32a(mState, 2), stra(mIfn, "abcdefghijklmnop"), u32a(mSyncID, 1))}, unix.EINVAL},
		{"start unicast group", cNewDaemon, []attr{d(u32a(mState, 2), stra(mIfn, "eth0"), u32a(mSyncID, 1), rawa(mGroup, 10, 0, 0, 1))}, unix.EINVAL},
		{"start unicast group6", cNewDaemon, []attr{d(u32a(mState, 2), stra(mIfn, "eth0"), u32a(mSyncID, 1), addra(mGroup6, "2001:db8::1"))}, unix.EINVAL},
		{"start short group6", cNewDaemon, []attr{d(u32a(mState, 2), stra(mIfn, "eth0"), u32a(mSyncID, 1), rawa(mGroup6, 0xff, 2))}, unix.EINVAL},
		{"start without state", cNewDaemon, []attr{d(stra(mIfn, "eth0"), u32a(mSyncID, 1))}, unix.EINVAL},
		{"start without interface", cNewDaemon, []attr{d(u32a(mState, 2), u32a(mSyncID, 1))}, unix.EINVAL},
		{"start without sync id", cNewDaemon, []attr{d(u32a(mState, 2), stra(mIfn, "eth0"))}, unix.EINVAL},
		{"start state 3", cNewDaemon, []attr{d(u32a(mState, 3), stra(mIfn, "eth0"), u32a(mSyncID, 1))}, unix.EINVAL},
		{"start without daemon", cNewDaemon, nil, unix.EINVAL},
		{"stop running", cDelDaemon, []attr{d(u32a(mState, 1))}, 0},
		{"stop not running", cDelDaemon, []attr{d(u32a(mState, 2))}, unix.ESRCH},
		{"stop state 3", cDelDaemon, []attr{d(u32a(mState, 3))}, unix.EINVAL},
		{"stop without state", cDelDaemon, []attr{d(stra(mIfn, "eth0"))}, unix.EINVAL},
		{"stop without daemon", cDelDaemon, nil, unix.EINVAL},
		{"get without dump", cGetDaemon, nil, unix.EOPNOTSUPP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ipvstest.New())
			c.mustDo(cNewDaemon, d(u32a(mState, 1), stra(mIfn, "eth0"), u32a(mSyncID, 1)))
			if got := c.do(tt.cmd, tt.as...); got != tt.want {
				t.Fatalf("errno = %v, want %v", got, tt.want)
			}
		})
	}
}
