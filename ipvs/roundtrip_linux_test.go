//go:build linux

package ipvs

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The round-trip property of the codec: a Service, Destination or Daemon
// that encode writes into a request comes back from decode, out of the
// reply the kernel would build from that request, as the kernel would
// report it. The reply is the request's attributes as they are, plus what
// only the kernel adds (connection counts, counters, its defaults), in the
// reply's nest. A few golden byte slices, written out by hand from
// include/uapi/linux/ip_vs.h and the kernel's ip_vs_genl_fill_*, keep the
// encoder and the decoder from agreeing on the same mistake.

// roundTripCount is how many random values of each kind the property tests
// try, and roundTripSeed the seed of their generator: a failure names its
// value's index, and the same seed makes the same values.
const (
	roundTripCount = 3000
	roundTripSeed  = 6
)

var cmpAddrs = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// edge is a random unsigned number that is often one of the values that
// show a mistake of size or order: 0, 1, all ones, or a small number.
func edge[T ~uint16 | ~uint32 | ~uint64](r *rand.Rand) T {
	switch r.IntN(8) {
	case 0:
		return 0
	case 1:
		return 1
	case 2:
		return ^T(0)
	case 3:
		return T(r.IntN(256))
	}
	return T(r.Uint64())
}

func randomFamily(r *rand.Rand) Family {
	if r.IntN(2) == 0 {
		return IPv4
	}
	return IPv6
}

func otherFamily(f Family) Family {
	if f == IPv4 {
		return IPv6
	}
	return IPv4
}

// randomAddr is an address of family f. An IPv6 one is now and then
// IPv4-mapped, which is IPv6 to the kernel and to familyOf.
func randomAddr(r *rand.Rand, f Family) netip.Addr {
	if f == IPv4 {
		return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, r.Uint32())))
	}
	var a [16]byte
	binary.BigEndian.PutUint64(a[:8], r.Uint64())
	binary.BigEndian.PutUint64(a[8:], r.Uint64())
	if r.IntN(10) == 0 {
		a = netip.AddrFrom4([4]byte(a[12:])).As16()
	}
	return netip.AddrFrom16(a)
}

// randomName is a name of 1 to max bytes, of a kernel module or an
// interface: seldom one of moduleNames, so that the decoder's copy of a
// name is tested beside its interning.
func randomName(r *rand.Rand, max int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789._-"
	b := make([]byte, 1+r.IntN(max))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

var testSchedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos", "none"}

const allServiceFlags = FlagPersistent | FlagHashed | FlagOnePacket | FlagSched1 | FlagSched2 | FlagSched3

// randomService is a valid service: an IPv4 or IPv6 address service of
// TCP, UDP or SCTP, or a firewall-mark service of either family, with any
// scheduler, flags, timeout and netmask the model allows.
func randomService(r *rand.Rand) Service {
	var s Service
	f := randomFamily(r)
	if r.IntN(4) == 0 {
		s.FirewallMark = max(1, edge[uint32](r))
		// An IPv6 mark must say so (ipvsadm -f 1 -6); an IPv4 one may.
		if f == IPv6 || r.IntN(2) == 0 {
			s.Family = f
		}
	} else {
		s.Protocol = []Protocol{TCP, UDP, SCTP}[r.IntN(3)]
		s.Address = randomAddr(r, f)
		s.Port = edge[uint16](r)
		if r.IntN(2) == 0 {
			s.Family = f
		}
	}
	if r.IntN(5) == 0 {
		s.Scheduler = randomName(r, maxSchedulerName)
	} else {
		s.Scheduler = testSchedulers[r.IntN(len(testSchedulers))]
	}
	if r.IntN(3) == 0 {
		s.PersistenceEngine = "sip"
	}
	s.Flags = ServiceFlags(r.Uint32()) & allServiceFlags
	s.Timeout = edge[uint32](r)
	switch {
	case f == IPv6 && r.IntN(4) == 0:
		s.Netmask = 0 // 128
	case f == IPv6:
		s.Netmask = Netmask(r.IntN(129))
	case r.IntN(3) == 0:
		s.Netmask = Netmask(edge[uint32](r)) // any bit pattern
	default:
		s.Netmask = Netmask(uint32(math.MaxUint32) << r.IntN(33)) // /32 to /0
	}
	return s
}

// randomDestination is a valid destination of a service of family sf, by
// any forwarding method; a tunnel's may be of the other family.
func randomDestination(r *rand.Rand, sf Family) Destination {
	var d Destination
	d.Forwarding = Forwarding(r.IntN(int(Bypass) + 1))
	f := sf
	if d.Forwarding == Tunnel && r.IntN(3) == 0 {
		f = otherFamily(sf)
	}
	d.Address = randomAddr(r, f)
	if r.IntN(2) == 0 {
		d.Family = f
	}
	d.Port = edge[uint16](r)
	d.Weight = int32(edge[uint32](r) & math.MaxInt32)
	d.UpperThreshold = edge[uint32](r)
	d.LowerThreshold = edge[uint32](r)
	// The kernel keeps (and reports) the tunnel settings of any
	// destination, but only a tunnel's mean anything.
	if d.Forwarding == Tunnel || r.IntN(8) == 0 {
		d.TunnelType = TunnelType(r.IntN(int(GRE) + 1))
		d.TunnelPort = edge[uint16](r)
		d.TunnelFlags = TunnelFlags(r.IntN(4))
	}
	return d
}

// randomDaemon is a valid daemon; a zero MaxLength, Port, TTL or Group
// (a quarter of the time each) leaves it to the kernel.
func randomDaemon(r *rand.Rand) Daemon {
	d := Daemon{State: Master, Interface: randomName(r, maxInterfaceName), SyncID: edge[uint32](r)}
	if r.IntN(2) == 0 {
		d.State = Backup
	}
	if r.IntN(4) != 0 {
		d.MaxLength = max(1, edge[uint16](r))
	}
	if r.IntN(4) != 0 {
		d.Port = max(1, edge[uint16](r))
	}
	if r.IntN(4) != 0 {
		d.TTL = max(1, uint8(edge[uint16](r)))
	}
	switch r.IntN(4) {
	case 0:
		// The kernel's default group.
	case 1, 2:
		a := randomAddr(r, IPv4).As4()
		a[0] = 224 + a[0]%16 // 224.0.0.0/4
		d.Group = netip.AddrFrom4(a)
	case 3:
		a := randomAddr(r, IPv6).As16()
		a[0] = 0xff // ff00::/8
		d.Group = netip.AddrFrom16(a)
	}
	return d
}

func randomStats(r *rand.Rand) Stats {
	return Stats{edge[uint64](r), edge[uint64](r), edge[uint64](r), edge[uint64](r), edge[uint64](r),
		edge[uint64](r), edge[uint64](r), edge[uint64](r), edge[uint64](r), edge[uint64](r)}
}

// as32 is st as a STATS nest carries it: struct ip_vs_stats_user, 32-bit
// but for the byte counters.
func (st Stats) as32() Stats {
	for _, p := range []*uint64{&st.Connections, &st.PacketsIn, &st.PacketsOut, &st.ConnectionRate,
		&st.PacketRateIn, &st.PacketRateOut, &st.ByteRateIn, &st.ByteRateOut} {
		*p = uint64(uint32(*p))
	}
	return st
}

// appendStats adds a STATS (all64 false) or STATS64 nest of type typ, as
// ip_vs_genl_fill_stats and _stats64 write them: in attribute order, and,
// with pad, an IPVS_STATS_ATTR_PAD before each 64-bit value, which
// nla_put_u64_64bit adds where the value would not be 8-aligned.
func appendStats(ae *attributeEncoder, typ uint16, st Stats, all64, pad bool) {
	ae.Nested(typ, func(ae *attributeEncoder) error {
		values := []uint64{st.Connections, st.PacketsIn, st.PacketsOut, st.BytesIn, st.BytesOut,
			st.ConnectionRate, st.PacketRateIn, st.PacketRateOut, st.ByteRateIn, st.ByteRateOut}
		for i, v := range values {
			a := uint16(statsConns + i)
			if !all64 && a != statsInBytes && a != statsOutBytes {
				ae.Uint32(a, uint32(v))
				continue
			}
			if pad {
				ae.Bytes(11, nil) // IPVS_STATS_ATTR_PAD
			}
			ae.Bytes(a, binary.NativeEndian.AppendUint64(nil, v))
		}
		return nil
	})
}

// kernelStats adds the counters a kernel sends of a service or destination
// (stats32 and stats64 the types of their nests), and returns the Stats the
// decoder should find: the 64-bit ones where there are, as a kernel since
// 4.1 sends both; the 32-bit ones of an older kernel; or none.
func kernelStats(r *rand.Rand, ae *attributeEncoder, stats32, stats64 uint16) Stats {
	st := randomStats(r)
	pad := r.IntN(2) == 0
	switch r.IntN(4) {
	case 0:
		return Stats{}
	case 1:
		appendStats(ae, stats32, st, false, pad)
		return st.as32()
	case 2:
		appendStats(ae, stats64, st, true, pad)
		return st
	}
	appendStats(ae, stats32, randomStats(r), false, pad)
	appendStats(ae, stats64, st, true, pad)
	return st
}

// walkAttrs calls fn with each attribute of b: its type (without the
// flags), its value, and its whole span, header and padding. It is written
// apart from attributeDecoder, so that it can rewrite what the encoder
// made without trusting the decoder under test.
func walkAttrs(b []byte, fn func(typ uint16, value, span []byte)) {
	for len(b) >= 4 {
		n := int(binary.NativeEndian.Uint16(b))
		if n < 4 || n > len(b) {
			return
		}
		span := b[:min((n+3)&^3, len(b))]
		fn(binary.NativeEndian.Uint16(b[2:])&0x3fff, b[4:n], span)
		b = b[len(span):]
	}
}

// without is b without its attributes of type typ.
func without(b []byte, typ uint16) []byte {
	var out []byte
	walkAttrs(b, func(t uint16, _, span []byte) {
		if t != typ {
			out = append(out, span...)
		}
	})
	return out
}

// kernelReply is the reply nest the kernel would send for a value that
// encode writes into a request: kernel gets the request's attributes and
// adds them, changed as the kernel would change them, and what the kernel
// adds of its own.
func kernelReply(t *testing.T, nest uint16, encode func(*attributeEncoder) error, kernel func(ae *attributeEncoder, request []byte)) []byte {
	t.Helper()
	var req attributeEncoder
	if err := encode(&req); err != nil || req.err != nil {
		t.Fatalf("encode: %v, %v", err, req.err)
	}
	var reply attributeEncoder
	reply.Nested(nest, func(ae *attributeEncoder) error {
		kernel(ae, req.b)
		return nil
	})
	if reply.err != nil {
		t.Fatalf("reply: %v", reply.err)
	}
	return reply.b
}

// roundTripFailed reports a failed round trip, and stops the test at the
// third, so that one mistake does not print thousands of diffs.
func roundTripFailed(t *testing.T, failures *int, format string, args ...any) {
	t.Helper()
	t.Errorf(format, args...)
	if *failures++; *failures >= 3 {
		t.Fatalf("stopping after %d failures (seed %d)", *failures, roundTripSeed)
	}
}

// serviceFields and destinationFields print every field, where Service's
// and Destination's String print only the key.
type (
	serviceFields     Service
	destinationFields Destination
)

// reportedService is s as the kernel reports it back.
func reportedService(s Service) Service {
	// The kernel keeps svc->af and always sends it (IPVS_SVC_ATTR_AF): a
	// zero Family comes back as the address's, or IPv4 for a mark.
	s.Family = s.family()
	// An IPv6 service's zero netmask is sent as /128, and the kernel
	// reports the prefix length it holds.
	s.Netmask = s.netmask()
	// The kernel sets IP_VS_SVC_F_HASHED on every service it holds
	// (ip_vs_svc_hash) and reports its flags with a mask of all ones;
	// encode never sends it (a hashed new service would never be found).
	s.Flags |= FlagHashed
	return s
}

func TestServiceRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(roundTripSeed, 1))
	failures := 0
	for i := range roundTripCount {
		s := randomService(r)
		if err := s.validate(); err != nil {
			t.Fatalf("service %d: the generator made an invalid service: %v", i, err)
		}
		var stats Stats
		b := kernelReply(t, attrService, s.encode, func(ae *attributeEncoder, req []byte) {
			ae.b = append(ae.b, req...)
			walkAttrs(ae.b[len(ae.b)-len(req):], func(typ uint16, v, _ []byte) {
				if typ != svcFlags {
					return
				}
				flags, mask := binary.NativeEndian.Uint32(v), binary.NativeEndian.Uint32(v[4:])
				if ServiceFlags(flags)&FlagHashed != 0 || mask != math.MaxUint32 {
					roundTripFailed(t, &failures, "service %d: %+v: request flags %#x mask %#x, want no FlagHashed and a mask of all ones", i, serviceFields(s), flags, mask)
				}
				binary.NativeEndian.PutUint32(v, flags|uint32(FlagHashed))
			})
			stats = kernelStats(r, ae, svcStats, svcStats64)
		})
		got, err := decodeServiceReply(&attributeDecoder{rest: b})
		if err != nil {
			roundTripFailed(t, &failures, "service %d: %+v: %v", i, serviceFields(s), err)
			continue
		}
		want := ServiceExtended{Service: reportedService(s), Stats: stats}
		if diff := cmp.Diff(want, got, cmpAddrs); diff != "" {
			roundTripFailed(t, &failures, "service %d: %+v (-want +got):\n%s", i, serviceFields(s), diff)
		}
	}
}

func TestDestinationRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(roundTripSeed, 2))
	failures := 0
	for i := range roundTripCount {
		sf := randomFamily(r)
		d := randomDestination(r, sf)
		if err := d.validate(); err != nil {
			t.Fatalf("destination %d: the generator made an invalid destination: %v", i, err)
		}
		want := DestinationExtended{
			// The kernel reports the destination's own family
			// (IPVS_DEST_ATTR_ADDR_FAMILY, since 3.18): a zero Family
			// comes back as the address's.
			Destination:           d,
			ActiveConnections:     edge[uint32](r),
			InactiveConnections:   edge[uint32](r),
			PersistentConnections: edge[uint32](r),
		}
		want.Family = d.family()
		// A kernel before 3.18 sends no family: the destination is of its
		// service's, as it must then be.
		oldKernel := want.Family == sf && r.IntN(4) == 0
		b := kernelReply(t, attrDest, d.encode, func(ae *attributeEncoder, req []byte) {
			if oldKernel {
				req = without(req, destAddrFamily)
			}
			ae.b = append(ae.b, req...)
			ae.Uint32(destActiveConns, want.ActiveConnections)
			ae.Uint32(destInactConns, want.InactiveConnections)
			ae.Uint32(destPersistConns, want.PersistentConnections)
			want.Stats = kernelStats(r, ae, destStats, destStats64)
		})
		got, err := decodeDestinationReply(&attributeDecoder{rest: b}, sf)
		if err != nil {
			roundTripFailed(t, &failures, "destination %d of an %v service: %+v: %v", i, sf, destinationFields(d), err)
			continue
		}
		if diff := cmp.Diff(want, got, cmpAddrs); diff != "" {
			roundTripFailed(t, &failures, "destination %d of an %v service: %+v (-want +got):\n%s", i, sf, destinationFields(d), diff)
		}
	}
}

// The defaults the kernel reports for what a daemon was started without
// (TestScenarioDaemonDefaults reads them from a real kernel); the maximum
// length is derived from the interface's MTU, here an Ethernet one's.
const (
	kernelDaemonMaxLength = 1472
	kernelDaemonPort      = 8848
	kernelDaemonTTL       = 1
)

var kernelDaemonGroup = netip.MustParseAddr("224.0.0.81")

func TestDaemonRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(roundTripSeed, 3))
	failures := 0
	for i := range roundTripCount {
		d := randomDaemon(r)
		if err := d.validate(); err != nil {
			t.Fatalf("daemon %d: the generator made an invalid daemon: %v", i, err)
		}
		// The kernel reports every setting (ip_vs_genl_fill_daemon), its
		// default for one the daemon was started without.
		want := d
		b := kernelReply(t, attrDaemon, d.encode, func(ae *attributeEncoder, req []byte) {
			ae.b = append(ae.b, req...)
			if d.MaxLength == 0 {
				want.MaxLength = kernelDaemonMaxLength
				ae.Uint16(daemonSyncMaxlen, want.MaxLength)
			}
			if d.Port == 0 {
				want.Port = kernelDaemonPort
				ae.Uint16(daemonMcastPort, want.Port)
			}
			if d.TTL == 0 {
				want.TTL = kernelDaemonTTL
				ae.Uint8(daemonMcastTTL, want.TTL)
			}
			if !d.Group.IsValid() {
				want.Group = kernelDaemonGroup
				a := want.Group.As4()
				ae.Bytes(daemonMcastGroup, a[:])
			}
		})
		got, err := decodeDaemonReply(&attributeDecoder{rest: b})
		if err != nil {
			roundTripFailed(t, &failures, "daemon %d: %+v: %v", i, d, err)
			continue
		}
		if diff := cmp.Diff(want, got, cmpAddrs); diff != "" {
			roundTripFailed(t, &failures, "daemon %d: %+v (-want +got):\n%s", i, d, diff)
		}
	}
}

// A codecGolden is a value, the request nest encode must make of it, byte
// for byte, and a reply nest the kernel sends of it, which must decode to
// want. The bytes are written out by hand from include/uapi/linux/ip_vs.h
// and the kernel's ip_vs_genl_fill_*, in native order on a little-endian
// host: every attribute a 16-bit length (header included) and a 16-bit
// type, padded to 4 bytes; ports (but a daemon's) and an IPv4 netmask in
// network order.
type codecGolden struct {
	name    string
	encode  func(*attributeEncoder) error
	request []byte
	reply   []byte
	decode  func(*attributeDecoder) (any, error)
	want    any
}

var codecGoldens = []codecGolden{
	{
		name: "IPv4 TCP service",
		encode: func(ae *attributeEncoder) error {
			ae.Nested(attrService, Service{
				Protocol: TCP, Address: netip.MustParseAddr("192.0.2.10"), Port: 443,
				Scheduler: "wlc", Flags: FlagPersistent | FlagHashed | FlagOnePacket, Timeout: 300, Netmask: 0xffffff00,
			}.encode)
			return nil
		},
		request: []byte{
			0x54, 0x00, 0x01, 0x80, // IPVS_CMD_ATTR_SERVICE, NLA_F_NESTED, 84 bytes
			0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, // AF: AF_INET, though Family was zero
			0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, // PROTOCOL: IPPROTO_TCP
			0x14, 0x00, 0x03, 0x00, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ADDR: nf_inet_addr
			0x06, 0x00, 0x04, 0x00, 0x01, 0xbb, 0x00, 0x00, // PORT: 443, big-endian
			0x08, 0x00, 0x06, 0x00, 'w', 'l', 'c', 0x00, // SCHED_NAME
			0x0c, 0x00, 0x07, 0x00, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, // FLAGS: {flags, mask}, no HASHED
			0x08, 0x00, 0x08, 0x00, 0x2c, 0x01, 0x00, 0x00, // TIMEOUT: 300
			0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0x00, // NETMASK: 255.255.255.0, big-endian
		},
		// As ip_vs_genl_fill_service writes it: nests without
		// NLA_F_NESTED (nla_nest_start_noflag), HASHED set, and a STATS64
		// nest with a pad before each u64 (nla_put_u64_64bit).
		reply: []byte{
			0x78, 0x00, 0x01, 0x00, // IPVS_CMD_ATTR_SERVICE, 120 bytes
			0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,
			0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00,
			0x14, 0x00, 0x03, 0x00, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0x06, 0x00, 0x04, 0x00, 0x01, 0xbb, 0x00, 0x00,
			0x08, 0x00, 0x06, 0x00, 'w', 'l', 'c', 0x00,
			0x0c, 0x00, 0x07, 0x00, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, // PERSISTENT|HASHED|ONEPACKET
			0x08, 0x00, 0x08, 0x00, 0x2c, 0x01, 0x00, 0x00,
			0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0x00,
			0x24, 0x00, 0x0c, 0x00, // STATS64, 36 bytes
			0x04, 0x00, 0x0b, 0x00, // IPVS_STATS_ATTR_PAD
			0x0c, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // CONNS: 5
			0x04, 0x00, 0x0b, 0x00,
			0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // INBYTES: 1<<32
		},
		decode: func(ad *attributeDecoder) (any, error) { return decodeServiceReply(ad) },
		want: ServiceExtended{
			Service: Service{
				Family: IPv4, Protocol: TCP, Address: netip.MustParseAddr("192.0.2.10"), Port: 443,
				Scheduler: "wlc", Flags: FlagPersistent | FlagHashed | FlagOnePacket, Timeout: 300, Netmask: 0xffffff00,
			},
			Stats: Stats{Connections: 5, BytesIn: 1 << 32},
		},
	},
	{
		name: "IPv6 firewall-mark service, netmask zero",
		encode: func(ae *attributeEncoder) error {
			ae.Nested(attrService, Service{Family: IPv6, FirewallMark: 7, Scheduler: "rr", PersistenceEngine: "sip"}.encode)
			return nil
		},
		request: []byte{
			0x40, 0x00, 0x01, 0x80, // IPVS_CMD_ATTR_SERVICE, NLA_F_NESTED, 64 bytes
			0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00, // AF: AF_INET6
			0x08, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00, // FWMARK: 7, and no protocol, address or port
			0x07, 0x00, 0x06, 0x00, 'r', 'r', 0x00, 0x00, // SCHED_NAME
			0x08, 0x00, 0x0b, 0x00, 's', 'i', 'p', 0x00, // PE_NAME
			0x0c, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, // FLAGS
			0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, // TIMEOUT
			0x08, 0x00, 0x09, 0x00, 0x80, 0x00, 0x00, 0x00, // NETMASK: prefix length 128, host order
		},
		reply: []byte{
			0x40, 0x00, 0x01, 0x00,
			0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x00,
			0x08, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00,
			0x07, 0x00, 0x06, 0x00, 'r', 'r', 0x00, 0x00,
			0x08, 0x00, 0x0b, 0x00, 's', 'i', 'p', 0x00,
			0x0c, 0x00, 0x07, 0x00, 0x02, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, // HASHED
			0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
			0x08, 0x00, 0x09, 0x00, 0x80, 0x00, 0x00, 0x00,
		},
		decode: func(ad *attributeDecoder) (any, error) { return decodeServiceReply(ad) },
		want: ServiceExtended{Service: Service{
			Family: IPv6, FirewallMark: 7, Scheduler: "rr", PersistenceEngine: "sip", Flags: FlagHashed, Netmask: 128,
		}},
	},
	{
		name: "IPv6 tunnel destination of an IPv4 service",
		encode: func(ae *attributeEncoder) error {
			ae.Nested(attrDest, Destination{
				Address: netip.MustParseAddr("2001:db8::5"), Port: 8080, Forwarding: Tunnel, Weight: 100,
				UpperThreshold: 1000, TunnelType: GUE, TunnelPort: 6080, TunnelFlags: TunnelChecksum,
			}.encode)
			return nil
		},
		request: []byte{
			0x60, 0x00, 0x02, 0x80, // IPVS_CMD_ATTR_DEST, NLA_F_NESTED, 96 bytes
			0x06, 0x00, 0x0b, 0x00, 0x0a, 0x00, 0x00, 0x00, // ADDR_FAMILY: AF_INET6, though Family was zero
			0x14, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, // ADDR
			0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00, // PORT: 8080, big-endian
			0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, // FWD_METHOD: IP_VS_CONN_F_TUNNEL
			0x08, 0x00, 0x04, 0x00, 0x64, 0x00, 0x00, 0x00, // WEIGHT: 100
			0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00, // TUN_TYPE: GUE, a u8
			0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00, // TUN_PORT: 6080, big-endian
			0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00, // TUN_FLAGS: checksum, host order
			0x08, 0x00, 0x05, 0x00, 0xe8, 0x03, 0x00, 0x00, // U_THRESH: 1000
			0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, // L_THRESH: 0
		},
		// In the order of ip_vs_genl_fill_dest, without stats.
		reply: []byte{
			0x78, 0x00, 0x02, 0x00, // IPVS_CMD_ATTR_DEST, 120 bytes
			0x14, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05,
			0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00,
			0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00,
			0x08, 0x00, 0x04, 0x00, 0x64, 0x00, 0x00, 0x00,
			0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00,
			0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00,
			0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x00,
			0x08, 0x00, 0x05, 0x00, 0xe8, 0x03, 0x00, 0x00,
			0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00,
			0x08, 0x00, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00, // ACTIVE_CONNS: 3
			0x08, 0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, // INACT_CONNS: 256
			0x08, 0x00, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, // PERSIST_CONNS: 1
			0x06, 0x00, 0x0b, 0x00, 0x0a, 0x00, 0x00, 0x00, // ADDR_FAMILY: AF_INET6
		},
		decode: func(ad *attributeDecoder) (any, error) { return decodeDestinationReply(ad, IPv4) },
		want: DestinationExtended{
			Destination: Destination{
				Family: IPv6, Address: netip.MustParseAddr("2001:db8::5"), Port: 8080, Forwarding: Tunnel, Weight: 100,
				UpperThreshold: 1000, TunnelType: GUE, TunnelPort: 6080, TunnelFlags: TunnelChecksum,
			},
			ActiveConnections: 3, InactiveConnections: 256, PersistentConnections: 1,
		},
	},
	{
		name: "daemon with the kernel's defaults",
		encode: func(ae *attributeEncoder) error {
			ae.Nested(attrDaemon, Daemon{State: Master, Interface: "eth0", SyncID: 5, Group: netip.MustParseAddr("239.1.1.1")}.encode)
			return nil
		},
		request: []byte{
			0x28, 0x00, 0x03, 0x80, // IPVS_CMD_ATTR_DAEMON, NLA_F_NESTED, 40 bytes
			0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, // STATE: IP_VS_STATE_MASTER
			0x09, 0x00, 0x02, 0x00, 'e', 't', 'h', '0', 0x00, 0x00, 0x00, 0x00, // MCAST_IFN, NUL-terminated
			0x08, 0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00, // SYNC_ID: 5
			0x08, 0x00, 0x05, 0x00, 239, 1, 1, 1, // MCAST_GROUP: in_addr; no maxlen, port or TTL
		},
		reply: []byte{
			0x40, 0x00, 0x03, 0x00, // IPVS_CMD_ATTR_DAEMON, 64 bytes
			0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
			0x09, 0x00, 0x02, 0x00, 'e', 't', 'h', '0', 0x00, 0x00, 0x00, 0x00,
			0x08, 0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00,
			0x06, 0x00, 0x04, 0x00, 0xc0, 0x05, 0x00, 0x00, // SYNC_MAXLEN: 1472
			0x06, 0x00, 0x07, 0x00, 0x90, 0x22, 0x00, 0x00, // MCAST_PORT: 8848, host order
			0x05, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, // MCAST_TTL: 1
			0x08, 0x00, 0x05, 0x00, 239, 1, 1, 1,
		},
		decode: func(ad *attributeDecoder) (any, error) { return decodeDaemonReply(ad) },
		want: Daemon{
			State: Master, Interface: "eth0", SyncID: 5, MaxLength: 1472,
			Group: netip.MustParseAddr("239.1.1.1"), Port: 8848, TTL: 1,
		},
	},
}

func TestCodecMatchesHandWrittenBytes(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the goldens are of a little-endian host")
	}
	for _, g := range codecGoldens {
		t.Run(g.name, func(t *testing.T) {
			var ae attributeEncoder
			if err := g.encode(&ae); err != nil || ae.err != nil {
				t.Fatalf("encode: %v, %v", err, ae.err)
			}
			if diff := cmp.Diff(g.request, ae.b); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			got, err := g.decode(&attributeDecoder{rest: bytes.Clone(g.reply)})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if diff := cmp.Diff(g.want, got, cmpAddrs); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}
