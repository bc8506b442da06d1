//go:build linux

package ipvstest_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The tests keep their own copy of the numbers of include/uapi/linux/ip_vs.h
// so that they check the package against the header, not against itself.
const (
	cNewService = 1
	cSetService = 2
	cDelService = 3
	cGetService = 4
	cNewDest    = 5
	cSetDest    = 6
	cDelDest    = 7
	cGetDest    = 8
	cNewDaemon  = 9
	cDelDaemon  = 10
	cGetDaemon  = 11
	cSetConfig  = 12
	cGetConfig  = 13
	cSetInfo    = 14
	cGetInfo    = 15
	cZero       = 16
	cFlush      = 17

	aService = 1
	aDest    = 2
	aDaemon  = 3
	aTCP     = 4
	aTCPFin  = 5
	aUDP     = 6

	sAF       = 1
	sProtocol = 2
	sAddr     = 3
	sPort     = 4
	sFWMark   = 5
	sSched    = 6
	sFlags    = 7
	sTimeout  = 8
	sNetmask  = 9
	sStats    = 10
	sPE       = 11
	sStats64  = 12

	dAddr     = 1
	dPort     = 2
	dFwd      = 3
	dWeight   = 4
	dUThresh  = 5
	dLThresh  = 6
	dActive   = 7
	dInact    = 8
	dPersist  = 9
	dStats    = 10
	dAF       = 11
	dStats64  = 12
	dTunType  = 13
	dTunPort  = 14
	dTunFlags = 15

	mState  = 1
	mIfn    = 2
	mSyncID = 3
	mMaxLen = 4
	mGroup  = 5
	mGroup6 = 6
	mPort   = 7
	mTTL    = 8

	fwdMasq   = 0
	fwdTunnel = 2
	fwdRoute  = 3
)

const (
	reqAck  = netlink.Request | netlink.Acknowledge
	reqDump = netlink.Request | netlink.Dump
)

// attr is one attribute of a request under construction.
type attr = netlink.Attribute

func u8a(t uint16, v uint8) attr { return attr{Type: t, Data: []byte{v}} }
func u16a(t uint16, v uint16) attr {
	return attr{Type: t, Data: binary.NativeEndian.AppendUint16(nil, v)}
}
func u32a(t uint16, v uint32) attr {
	return attr{Type: t, Data: binary.NativeEndian.AppendUint32(nil, v)}
}
func be16a(t uint16, v uint16) attr {
	return attr{Type: t, Data: binary.BigEndian.AppendUint16(nil, v)}
}
func stra(t uint16, s string) attr  { return attr{Type: t, Data: append([]byte(s), 0)} }
func rawa(t uint16, b ...byte) attr { return attr{Type: t, Data: b} }

// addra lays an address out as union nf_inet_addr.
func addra(t uint16, s string) attr {
	a := netip.MustParseAddr(s)
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
	} else {
		b = a.As16()
	}
	return attr{Type: t, Data: b[:]}
}

// nest wraps attributes in a nest with NLA_F_NESTED set, as libnl does.
func nest(t uint16, as ...attr) attr {
	return attr{Type: t | netlink.Nested, Data: encode(as...)}
}

func encode(as ...attr) []byte {
	b, err := netlink.MarshalAttributes(as)
	if err != nil {
		panic(err)
	}
	return b
}

// svcID returns the identifying attributes of a TCP/UDP/SCTP service.
func svcID(proto uint16, addr string, port uint16) []attr {
	af := uint16(unix.AF_INET)
	if netip.MustParseAddr(addr).Is6() {
		af = unix.AF_INET6
	}
	return []attr{u16a(sAF, af), u16a(sProtocol, proto), addra(sAddr, addr), be16a(sPort, port)}
}

// fwmID returns the identifying attributes of a fwmark service.
func fwmID(af uint16, mark uint32) []attr {
	return []attr{u16a(sAF, af), u32a(sFWMark, mark)}
}

// full adds what NEW_SERVICE requires, as ipvsadm sends it by default:
// flags {0, ~0}, no persistence, netmask /32 or /128.
func full(id []attr, sched string) []attr {
	mask := []byte{0xff, 0xff, 0xff, 0xff}
	if binary.NativeEndian.Uint16(id[0].Data) == unix.AF_INET6 {
		mask = binary.NativeEndian.AppendUint32(nil, 128)
	}
	return append(append([]attr{}, id...),
		stra(sSched, sched),
		rawa(sFlags, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
		u32a(sTimeout, 0),
		rawa(sNetmask, mask...),
	)
}

// destAttrs returns a full destination as ipvsadm sends it.
func destAttrs(addr string, port uint16, fwd uint32, weight uint32) []attr {
	af := uint16(unix.AF_INET)
	if netip.MustParseAddr(addr).Is6() {
		af = unix.AF_INET6
	}
	return []attr{
		u16a(dAF, af), addra(dAddr, addr), be16a(dPort, port),
		u32a(dFwd, fwd), u32a(dWeight, weight),
		u8a(dTunType, 0), be16a(dTunPort, 0), u16a(dTunFlags, 0),
		u32a(dUThresh, 0), u32a(dLThresh, 0),
	}
}

// tconn is a connection to an emulated kernel speaking the IPVS family.
type tconn struct {
	t      *testing.T
	c      *netlink.Conn
	family uint16
}

// dial opens a connection to k and resolves the IPVS family on it.
func dial(t *testing.T, k *ipvstest.Kernel) *tconn {
	t.Helper()
	c := k.Dial()
	t.Cleanup(func() { c.Close() })
	f, err := genetlink.NewConn(c).GetFamily("IPVS")
	if err != nil {
		t.Fatalf("GetFamily: %v", err)
	}
	return &tconn{t: t, c: c, family: f.ID}
}

// msg builds an IPVS request message.
func (c *tconn) msg(cmd uint8, flags netlink.HeaderFlags, as ...attr) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: flags},
		Data:   append([]byte{cmd, 1, 0, 0}, encode(as...)...),
	}
}

// exec sends one request and receives its first answer.
func (c *tconn) exec(cmd uint8, flags netlink.HeaderFlags, as ...attr) ([]netlink.Message, error) {
	return c.c.Execute(c.msg(cmd, flags, as...))
}

// do sends a request with NLM_F_ACK and returns its errno (0 on success).
// sendReference sends a request payload written out from the reference,
// checks that it makes a message of the length ipvsadm's does, and expects
// the kernel's ack.
func (c *tconn) sendReference(payload []byte, length uint32, what string) {
	c.t.Helper()
	sent, err := c.c.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: reqAck},
		Data:   payload,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	if sent.Header.Length != length {
		c.t.Fatalf("%s: request length %d, want %d as in the reference", what, sent.Header.Length, length)
	}
	if _, err := c.c.Receive(); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

func (c *tconn) do(cmd uint8, as ...attr) unix.Errno {
	c.t.Helper()
	_, err := c.exec(cmd, reqAck, as...)
	return errnoOf(c.t, err)
}

// mustDo is do for set-up steps that must succeed.
func (c *tconn) mustDo(cmd uint8, as ...attr) {
	c.t.Helper()
	if errno := c.do(cmd, as...); errno != 0 {
		c.t.Fatalf("command %d: %v", cmd, errno)
	}
}

// dump runs a dump and returns the generic netlink payloads of its replies.
func (c *tconn) dump(cmd uint8, as ...attr) []genetlink.Message {
	c.t.Helper()
	msgs, err := c.exec(cmd, reqDump, as...)
	if err != nil {
		c.t.Fatalf("dump %d: %v", cmd, err)
	}
	return genl(c.t, msgs)
}

// get runs a doit GET and returns the single reply.
func (c *tconn) get(cmd uint8, as ...attr) (genetlink.Message, unix.Errno) {
	c.t.Helper()
	msgs, err := c.exec(cmd, netlink.Request, as...)
	if errno := errnoOf(c.t, err); errno != 0 {
		return genetlink.Message{}, errno
	}
	g := genl(c.t, msgs)
	if len(g) != 1 {
		c.t.Fatalf("command %d: got %d replies, want 1", cmd, len(g))
	}
	return g[0], 0
}

func genl(t *testing.T, msgs []netlink.Message) []genetlink.Message {
	t.Helper()
	out := make([]genetlink.Message, 0, len(msgs))
	for _, m := range msgs {
		var g genetlink.Message
		if err := g.UnmarshalBinary(m.Data); err != nil {
			t.Fatalf("reply %+v: %v", m.Header, err)
		}
		if g.Header.Version != 1 {
			t.Fatalf("reply version %d, want 1", g.Header.Version)
		}
		out = append(out, g)
	}
	return out
}

// errnoOf extracts the errno a netlink error carries; anything else fails.
func errnoOf(t *testing.T, err error) unix.Errno {
	t.Helper()
	if err == nil {
		return 0
	}
	var errno unix.Errno
	if !errors.As(err, &errno) {
		t.Fatalf("error without errno: %v", err)
	}
	return errno
}

// The decoded forms of replies, as a test reads them.

type tService struct {
	AF       uint16
	Protocol uint16
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32
	Sched    string
	PE       string
	Flags    uint32
	Mask     uint32
	Timeout  uint32
	Netmask  [4]byte
	Stats    *ipvstest.Stats
	Stats64  *ipvstest.Stats
	Order    []uint16
}

type tDest struct {
	Addr     netip.Addr
	Port     uint16
	Fwd      uint32
	Weight   uint32
	TunType  uint8
	TunPort  uint16
	TunFlags uint16
	UThresh  uint32
	LThresh  uint32
	Active   uint32
	Inact    uint32
	Persist  uint32
	AF       uint16
	Stats    *ipvstest.Stats
	Stats64  *ipvstest.Stats
	Order    []uint16
}

type tDaemon struct {
	State  uint32
	Ifn    string
	SyncID uint32
	MaxLen uint16
	Port   uint16
	TTL    uint8
	Group  netip.Addr
	Order  []uint16
}

// only returns the single nest of type typ in a reply.
func only(t *testing.T, g genetlink.Message, typ uint16) []byte {
	t.Helper()
	as, err := netlink.UnmarshalAttributes(g.Data)
	if err != nil || len(as) != 1 || as[0].Type != typ {
		t.Fatalf("reply attributes %+v (%v), want one of type %d", as, err, typ)
	}
	return as[0].Data
}

func addrOf(af uint16, b []byte) netip.Addr {
	if af == unix.AF_INET6 {
		return netip.AddrFrom16([16]byte(b))
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}

func parseService(t *testing.T, g genetlink.Message) tService {
	t.Helper()
	if g.Header.Command != cNewService {
		t.Fatalf("reply command %d, want NEW_SERVICE", g.Header.Command)
	}
	var s tService
	var addr []byte
	as, err := netlink.UnmarshalAttributes(only(t, g, aService))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		s.Order = append(s.Order, a.Type)
		switch a.Type {
		case sAF:
			s.AF = binary.NativeEndian.Uint16(a.Data)
		case sProtocol:
			s.Protocol = binary.NativeEndian.Uint16(a.Data)
		case sAddr:
			addr = a.Data
		case sPort:
			s.Port = binary.BigEndian.Uint16(a.Data)
		case sFWMark:
			s.FWMark = binary.NativeEndian.Uint32(a.Data)
		case sSched:
			s.Sched = cstring(a.Data)
		case sPE:
			s.PE = cstring(a.Data)
		case sFlags:
			s.Flags = binary.NativeEndian.Uint32(a.Data[0:])
			s.Mask = binary.NativeEndian.Uint32(a.Data[4:])
		case sTimeout:
			s.Timeout = binary.NativeEndian.Uint32(a.Data)
		case sNetmask:
			s.Netmask = [4]byte(a.Data)
		case sStats:
			s.Stats = parseStats(t, a.Data, false)
		case sStats64:
			s.Stats64 = parseStats(t, a.Data, true)
		}
	}
	if addr != nil {
		s.Addr = addrOf(s.AF, addr)
	}
	return s
}

func parseDest(t *testing.T, g genetlink.Message) tDest {
	t.Helper()
	if g.Header.Command != cNewDest {
		t.Fatalf("reply command %d, want NEW_DEST", g.Header.Command)
	}
	var d tDest
	var addr []byte
	as, err := netlink.UnmarshalAttributes(only(t, g, aDest))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		d.Order = append(d.Order, a.Type)
		switch a.Type {
		case dAddr:
			addr = a.Data
		case dPort:
			d.Port = binary.BigEndian.Uint16(a.Data)
		case dFwd:
			d.Fwd = binary.NativeEndian.Uint32(a.Data)
		case dWeight:
			d.Weight = binary.NativeEndian.Uint32(a.Data)
		case dTunType:
			d.TunType = a.Data[0]
		case dTunPort:
			d.TunPort = binary.BigEndian.Uint16(a.Data)
		case dTunFlags:
			d.TunFlags = binary.NativeEndian.Uint16(a.Data)
		case dUThresh:
			d.UThresh = binary.NativeEndian.Uint32(a.Data)
		case dLThresh:
			d.LThresh = binary.NativeEndian.Uint32(a.Data)
		case dActive:
			d.Active = binary.NativeEndian.Uint32(a.Data)
		case dInact:
			d.Inact = binary.NativeEndian.Uint32(a.Data)
		case dPersist:
			d.Persist = binary.NativeEndian.Uint32(a.Data)
		case dAF:
			d.AF = binary.NativeEndian.Uint16(a.Data)
		case dStats:
			d.Stats = parseStats(t, a.Data, false)
		case dStats64:
			d.Stats64 = parseStats(t, a.Data, true)
		}
	}
	d.Addr = addrOf(d.AF, addr)
	return d
}

func parseDaemon(t *testing.T, g genetlink.Message) tDaemon {
	t.Helper()
	if g.Header.Command != cNewDaemon {
		t.Fatalf("reply command %d, want NEW_DAEMON", g.Header.Command)
	}
	var d tDaemon
	as, err := netlink.UnmarshalAttributes(only(t, g, aDaemon))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		d.Order = append(d.Order, a.Type)
		switch a.Type {
		case mState:
			d.State = binary.NativeEndian.Uint32(a.Data)
		case mIfn:
			d.Ifn = cstring(a.Data)
		case mSyncID:
			d.SyncID = binary.NativeEndian.Uint32(a.Data)
		case mMaxLen:
			d.MaxLen = binary.NativeEndian.Uint16(a.Data)
		case mPort:
			d.Port = binary.NativeEndian.Uint16(a.Data)
		case mTTL:
			d.TTL = a.Data[0]
		case mGroup:
			d.Group = netip.AddrFrom4([4]byte(a.Data))
		case mGroup6:
			d.Group = netip.AddrFrom16([16]byte(a.Data))
		}
	}
	return d
}

// parseStats reads a stats nest, checking every entry has the width the
// kernel gives it: u64 in STATS64, u32 in STATS except the byte counters.
func parseStats(t *testing.T, b []byte, wide bool) *ipvstest.Stats {
	t.Helper()
	as, err := netlink.UnmarshalAttributes(b)
	if err != nil {
		t.Fatal(err)
	}
	var v [11]uint64
	for i, a := range as {
		if int(a.Type) != i+1 {
			t.Fatalf("stats attribute %d has type %d", i, a.Type)
		}
		want := 4
		if wide || a.Type == 4 || a.Type == 5 {
			want = 8
		}
		if len(a.Data) != want {
			t.Fatalf("stats attribute %d is %d bytes, want %d", a.Type, len(a.Data), want)
		}
		if want == 8 {
			v[a.Type] = binary.NativeEndian.Uint64(a.Data)
		} else {
			v[a.Type] = uint64(binary.NativeEndian.Uint32(a.Data))
		}
	}
	if len(as) != 10 {
		t.Fatalf("stats nest has %d attributes, want 10", len(as))
	}
	return &ipvstest.Stats{
		Conns: v[1], InPkts: v[2], OutPkts: v[3], InBytes: v[4], OutBytes: v[5],
		CPS: v[6], InPPS: v[7], OutPPS: v[8], InBPS: v[9], OutBPS: v[10],
	}
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// services dumps the table.
func (c *tconn) services() []tService {
	c.t.Helper()
	var out []tService
	for _, g := range c.dump(cGetService) {
		out = append(out, parseService(c.t, g))
	}
	return out
}

// dests dumps the destinations of a service.
func (c *tconn) dests(id []attr) []tDest {
	c.t.Helper()
	var out []tDest
	for _, g := range c.dump(cGetDest, nest(aService, id...)) {
		out = append(out, parseDest(c.t, g))
	}
	return out
}

// littleEndian skips tests whose golden bytes are written for
// little-endian hosts.
func littleEndian(t *testing.T) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("golden bytes are little-endian")
	}
}

// cmpDiff is cmp.Diff knowing how to compare addresses.
func cmpDiff(want, got any, opts ...cmp.Option) string {
	return cmp.Diff(want, got, append(opts, cmpopts.EquateComparable(netip.Addr{}))...)
}
