//go:build linux

package ipvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The fuzz targets of the decoders, which read what the kernel (or
// whatever answers on the socket) sends: one target per decoder, each
// seeded with the encoders' own output, cut at every length, with the
// length of one attribute or nest made wrong, with one value cut short,
// and empty. Every decoder must, for any input, return a value or an
// error that answers errors.Is(err, ErrMalformedReply), never panic; and
// a value it returns must survive encode and decode unchanged, as far as
// encode can say it. go test adds the inputs under testdata/fuzz/, where
// one that once failed stays as a regression test.

// legacySeeds are the seeds of the one target that fed every decoder the
// same input, before the targets were split: a service reply of the
// netlink package's encoder, a nest longer than its input, and nothing.
func legacySeeds() [][]byte {
	full := netlink.NewAttributeEncoder()
	full.Nested(attrService, func(nae *netlink.AttributeEncoder) error {
		fullIPv4Service(nae)
		nae.Nested(svcStats64, stats(true, 1))
		return nil
	})
	seed, _ := full.Encode()
	return [][]byte{seed, {0x40, 0x00, 0x01, 0x80, 0x06, 0x00}, {}}
}

// truncations are b cut at every length.
func truncations(b []byte) [][]byte {
	var seeds [][]byte
	for n := range len(b) {
		seeds = append(seeds, bytes.Clone(b[:n]))
	}
	return seeds
}

// badLengths are b with the length of any one attribute, at the top or in
// a nest, made too short, too long or impossible.
func badLengths(b []byte) [][]byte {
	var seeds [][]byte
	var walk func(off, end int)
	walk = func(off, end int) {
		for off+unix.NLA_HDRLEN <= end {
			n := int(binary.NativeEndian.Uint16(b[off:]))
			if n < unix.NLA_HDRLEN || off+n > end {
				return
			}
			for _, bad := range []int{0, unix.NLA_HDRLEN - 1, n - 1, n + 1, end - off + 1, 0xffff} {
				if bad != n && bad >= 0 {
					c := bytes.Clone(b)
					binary.NativeEndian.PutUint16(c[off:], uint16(bad))
					seeds = append(seeds, c)
				}
			}
			if binary.NativeEndian.Uint16(b[off+2:])&unix.NLA_F_NESTED != 0 {
				walk(off+unix.NLA_HDRLEN, off+n)
			}
			off += nlaAlign(n)
		}
	}
	walk(0, len(b))
	return seeds
}

// shortValues are b with the value of any one attribute cut short (to one
// byte, half, or one byte less) and the rest intact, so that the decoder
// meets a value of the wrong size where it expects a whole one. The
// attributes are those inside b if b is one nest, else b's own.
func shortValues(b []byte) [][]byte {
	var outer []byte
	if len(b) >= unix.NLA_HDRLEN && int(binary.NativeEndian.Uint16(b)) == len(b) &&
		binary.NativeEndian.Uint16(b[2:])&unix.NLA_F_NESTED != 0 {
		outer, b = b[:unix.NLA_HDRLEN], b[unix.NLA_HDRLEN:]
	}
	var seeds [][]byte
	for off := 0; off+unix.NLA_HDRLEN <= len(b); {
		n := int(binary.NativeEndian.Uint16(b[off:]))
		if n < unix.NLA_HDRLEN || off+n > len(b) {
			break
		}
		v := n - unix.NLA_HDRLEN
		for _, cut := range []int{1, v / 2, v - 1} {
			if cut < 1 || cut >= v || (cut == v/2 && (cut == 1 || cut == v-1)) {
				continue
			}
			var ae attributeEncoder
			ae.b = append(ae.b, outer...)
			ae.b = append(ae.b, b[:off]...)
			ae.Bytes(binary.NativeEndian.Uint16(b[off+2:]), b[off+unix.NLA_HDRLEN:off+unix.NLA_HDRLEN+cut])
			ae.b = append(ae.b, b[min(off+nlaAlign(n), len(b)):]...)
			if outer != nil {
				binary.NativeEndian.PutUint16(ae.b, uint16(len(ae.b)))
			}
			seeds = append(seeds, ae.b)
		}
		off += nlaAlign(n)
	}
	return seeds
}

// addSeeds adds the valid inputs, the first cut at every length, each
// with bad lengths and with short values, the random inputs as they are
// (malformed ones of them too would only slow the fuzzer's start), and
// the legacy seeds; each with every one of extra, the further arguments
// of the target if any.
func addSeeds(f *testing.F, valid, random [][]byte, extra ...any) {
	all := append(slices.Clone(valid), truncations(valid[0])...)
	for _, b := range valid {
		all = append(all, badLengths(b)...)
		all = append(all, shortValues(b)...)
	}
	all = append(all, random...)
	all = append(all, legacySeeds()...)
	if len(extra) == 0 {
		extra = []any{nil}
	}
	for _, b := range all {
		for _, x := range extra {
			if x == nil {
				f.Add(b)
			} else {
				f.Add(b, x)
			}
		}
	}
}

// encodeNest is the reply of one nest of type typ holding what fn adds.
func encodeNest(tb testing.TB, typ uint16, fn func(*attributeEncoder) error) []byte {
	tb.Helper()
	var ae attributeEncoder
	ae.Nested(typ, fn)
	if ae.err != nil {
		tb.Fatalf("encode: %v", ae.err)
	}
	return ae.b
}

// checkMalformed fails t unless err is nil or a malformed reply.
func checkMalformed(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrMalformedReply) {
		t.Fatalf("error %q is not ErrMalformedReply", err)
	}
}

// fuzzRand is the generator of the random values among the seeds.
func fuzzRand(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(roundTripSeed, 100+stream)) }

// serviceReply is a kernel's service reply of s: its request attributes
// and counters of both sizes.
func serviceReply(tb testing.TB, s Service, st Stats) []byte {
	return encodeNest(tb, attrService, func(ae *attributeEncoder) error {
		s.encode(ae)
		appendStats(ae, svcStats, st, false, false)
		appendStats(ae, svcStats64, st, true, true)
		return nil
	})
}

func FuzzDecodeService(f *testing.F) {
	valid := [][]byte{
		serviceReply(f, Service{Protocol: TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "rr",
			Flags: FlagPersistent | FlagSched1, Timeout: 600, Netmask: 0xffffff00, PersistenceEngine: "sip"}, Stats{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}),
		serviceReply(f, Service{Protocol: UDP, Address: netip.MustParseAddr("2001:db8::1"), Port: 53, Scheduler: "wlc"}, Stats{}),
		serviceReply(f, Service{Family: IPv6, FirewallMark: 7, Scheduler: "mh", Netmask: 64}, Stats{Connections: 1 << 40}),
	}
	var random [][]byte
	r := fuzzRand(1)
	for range 5 {
		random = append(random, serviceReply(f, randomService(r), randomStats(r)))
	}
	addSeeds(f, valid, random)
	f.Fuzz(func(t *testing.T, b []byte) {
		b = slices.Clip(b) // reading past the end panics, not reads spare capacity
		s, err := decodeServiceReply(&attributeDecoder{rest: b})
		checkMalformed(t, err)
		if err != nil {
			return
		}
		again, err := decodeServiceReply(&attributeDecoder{rest: serviceReply(t, s.Service, s.Stats)})
		if err != nil {
			t.Fatalf("%+v re-encoded does not decode: %v", s, err)
		}
		// encode never sends FlagHashed, and sends the zero netmask of
		// an IPv6 service as /128.
		want := s
		want.Flags &^= FlagHashed
		want.Netmask = s.netmask()
		if diff := cmp.Diff(want, again, cmpAddrs); diff != "" {
			t.Errorf("re-encoded (-want +got):\n%s", diff)
		}
	})
}

// destinationReply is a kernel's destination reply of d: its request
// attributes, connection counts and counters of both sizes.
func destinationReply(tb testing.TB, d DestinationExtended) []byte {
	return encodeNest(tb, attrDest, func(ae *attributeEncoder) error {
		d.encode(ae)
		ae.Uint32(destActiveConns, d.ActiveConnections)
		ae.Uint32(destInactConns, d.InactiveConnections)
		ae.Uint32(destPersistConns, d.PersistentConnections)
		appendStats(ae, destStats, d.Stats, false, false)
		appendStats(ae, destStats64, d.Stats, true, true)
		return nil
	})
}

func FuzzDecodeDestination(f *testing.F) {
	valid := [][]byte{
		destinationReply(f, DestinationExtended{Destination: Destination{Address: netip.MustParseAddr("192.168.0.1"), Port: 8080,
			Forwarding: Masquerade, Weight: 3, UpperThreshold: 100, LowerThreshold: 10}, ActiveConnections: 1, Stats: Stats{Connections: 9}}),
		destinationReply(f, DestinationExtended{Destination: Destination{Address: netip.MustParseAddr("2001:db8::2"), Port: 80,
			Forwarding: Tunnel, Weight: 1<<31 - 1, TunnelType: GUE, TunnelPort: 6080, TunnelFlags: TunnelChecksum}}),
	}
	var random [][]byte
	r := fuzzRand(2)
	for range 5 {
		d := DestinationExtended{Destination: randomDestination(r, randomFamily(r)), ActiveConnections: r.Uint32(), Stats: randomStats(r)}
		random = append(random, destinationReply(f, d))
	}
	// The family of the service, which a kernel before 3.18 leaves the
	// destination's.
	addSeeds(f, valid, random, false, true)
	f.Fuzz(func(t *testing.T, b []byte, ipv6Service bool) {
		b = slices.Clip(b) // reading past the end panics, not reads spare capacity
		sf := IPv4
		if ipv6Service {
			sf = IPv6
		}
		d, err := decodeDestinationReply(&attributeDecoder{rest: b}, sf)
		checkMalformed(t, err)
		if err != nil {
			return
		}
		again, err := decodeDestinationReply(&attributeDecoder{rest: destinationReply(t, d)}, sf)
		if err != nil {
			t.Fatalf("%+v re-encoded does not decode: %v", d, err)
		}
		if diff := cmp.Diff(d, again, cmpAddrs); diff != "" {
			t.Errorf("re-encoded (-want +got):\n%s", diff)
		}
	})
}

// daemonReply is the reply of d as encode writes it.
func daemonReply(tb testing.TB, d Daemon) []byte { return encodeNest(tb, attrDaemon, d.encode) }

func FuzzDecodeDaemon(f *testing.F) {
	valid := [][]byte{
		daemonReply(f, Daemon{State: Backup, Interface: "eth1", SyncID: 9, MaxLength: 1400,
			Group: netip.MustParseAddr("ff02::1234"), Port: 8849, TTL: 2}),
		daemonReply(f, Daemon{State: Master, Interface: "lo", Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}),
	}
	var random [][]byte
	r := fuzzRand(3)
	for range 5 {
		random = append(random, daemonReply(f, randomDaemon(r)))
	}
	addSeeds(f, valid, random)
	f.Fuzz(func(t *testing.T, b []byte) {
		b = slices.Clip(b) // reading past the end panics, not reads spare capacity
		d, err := decodeDaemonReply(&attributeDecoder{rest: b})
		checkMalformed(t, err)
		if err != nil {
			return
		}
		again, err := decodeDaemonReply(&attributeDecoder{rest: daemonReply(t, d)})
		if err != nil {
			t.Fatalf("%+v re-encoded does not decode: %v", d, err)
		}
		if diff := cmp.Diff(d, again, cmpAddrs); diff != "" {
			t.Errorf("re-encoded (-want +got):\n%s", diff)
		}
	})
}

func FuzzDecodeInfo(f *testing.F) {
	var ae attributeEncoder
	ae.Uint32(infoVersion, 0x010201)
	ae.Uint32(infoConnTabSize, 4096)
	addSeeds(f, [][]byte{ae.b}, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		b = slices.Clip(b) // reading past the end panics, not reads spare capacity
		_, err := decodeInfo(&attributeDecoder{rest: b})
		checkMalformed(t, err)
	})
}

// timeoutsReply is the attributes of t as a SET_CONFIG request has them,
// which are those of the kernel's GET_CONFIG reply.
func timeoutsReply(t Timeouts) []byte {
	var ae attributeEncoder
	Op{Command: CmdSetConfig, Timeouts: t}.encode(&ae)
	return ae.b
}

func FuzzDecodeTimeouts(f *testing.F) {
	addSeeds(f, [][]byte{timeoutsReply(Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second})}, nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		b = slices.Clip(b) // reading past the end panics, not reads spare capacity
		to, err := decodeTimeouts(&attributeDecoder{rest: b})
		checkMalformed(t, err)
		if err != nil {
			return
		}
		again, err := decodeTimeouts(&attributeDecoder{rest: timeoutsReply(to)})
		if err != nil {
			t.Fatalf("%+v re-encoded does not decode: %v", to, err)
		}
		if diff := cmp.Diff(to, again); diff != "" {
			t.Errorf("re-encoded (-want +got):\n%s", diff)
		}
	})
}

// FuzzDecodeStats feeds the fuzz input to decodeStats as the inside of a
// STATS (all64 false) or STATS64 nest. decodeStats leaves marking its
// errors to its callers, so the input is also decoded as the nest of a
// service, whose decoder must fail exactly when decodeStats does, with a
// malformed reply, and else report the same counters.
func FuzzDecodeStats(f *testing.F) {
	var valid [][]byte
	for _, all64 := range []bool{false, true} {
		for _, pad := range []bool{true, false} {
			var ae attributeEncoder
			appendStats(&ae, svcStats, Stats{1, 2, 3, 1 << 40, 5, 6, 7, 8, 9, 10}, all64, pad)
			valid = append(valid, ae.b[unix.NLA_HDRLEN:]) // the inside of the nest
		}
	}
	// The outer nest header of the legacy seeds is now an attribute
	// inside stats.
	addSeeds(f, valid, nil, false, true)
	f.Fuzz(func(t *testing.T, b []byte, all64 bool) {
		b = slices.Clip(b) // reading past the end panics, not reads spare capacity
		var st Stats
		err := decodeStats(&attributeDecoder{rest: b}, &st, all64)

		typ := uint16(svcStats)
		if all64 {
			typ = svcStats64
		}
		if len(b) <= 0xffff-unix.NLA_HDRLEN-0x100 {
			reply := encodeNest(t, attrService, func(ae *attributeEncoder) error {
				Service{Protocol: TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "rr"}.encode(ae)
				ae.Nested(typ, func(ae *attributeEncoder) error {
					ae.b = append(ae.b, b...)
					return nil
				})
				return nil
			})
			s, serr := decodeServiceReply(&attributeDecoder{rest: reply})
			checkMalformed(t, serr)
			switch {
			case (err == nil) != (serr == nil):
				t.Fatalf("decodeStats: %v; in a service: %v", err, serr)
			case err == nil && s.Stats != st:
				t.Fatalf("in a service: %+v, alone: %+v", s.Stats, st)
			}
		}
		if err != nil {
			return
		}
		var ae attributeEncoder
		appendStats(&ae, typ, st, all64, false)
		var again Stats
		if err := decodeStats(&attributeDecoder{rest: ae.b[unix.NLA_HDRLEN:]}, &again, all64); err != nil {
			t.Fatalf("%+v re-encoded does not decode: %v", st, err)
		}
		if diff := cmp.Diff(st, again); diff != "" {
			t.Errorf("re-encoded (-want +got):\n%s", diff)
		}
	})
}

// largeReply is a reply of about 60 KiB (what one netlink datagram holds):
// valid repeated, within its outer nest if nested, else at the top.
func largeReply(valid []byte, nested bool) []byte {
	const size = 60 << 10
	if !nested {
		return bytes.Repeat(valid, size/len(valid))
	}
	inner := valid[unix.NLA_HDRLEN:]
	b := bytes.Repeat(inner, (size-unix.NLA_HDRLEN)/len(inner))
	hdr := binary.NativeEndian.AppendUint16(nil, uint16(unix.NLA_HDRLEN+len(b)))
	hdr = append(hdr, valid[2:4]...)
	return append(hdr, b...)
}

// TestDecodersAllocateAConstant: decoding a reply allocates a few values
// at most, however many attributes it holds; a decoder that copied each
// attribute, as netlink.AttributeDecoder does, would allocate thousands
// of times here. A name the decoder does not intern (moduleNames), a
// scheduler of its own or an interface, is one string: made once, however
// often the attribute repeats.
func TestDecodersAllocateAConstant(t *testing.T) {
	r := fuzzRand(4)
	svc := Service{Protocol: TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80, Scheduler: "wlc", PersistenceEngine: "sip"}
	dest := DestinationExtended{Destination: randomDestination(r, IPv4), Stats: randomStats(r)}
	daemon := Daemon{State: Master, Interface: "eth0", SyncID: 1, Group: netip.MustParseAddr("ff02::1")}
	var stats attributeEncoder
	appendStats(&stats, svcStats64, randomStats(r), true, true)
	tests := []struct {
		name   string
		reply  []byte
		decode func(*attributeDecoder) error
		max    float64
	}{
		{"service", largeReply(serviceReply(t, svc, randomStats(r)), true),
			func(ad *attributeDecoder) error { _, err := decodeServiceReply(ad); return err }, 0},
		{"service of a scheduler not built in", largeReply(serviceReply(t, Service{FirewallMark: 1, Scheduler: "local-rr"}, Stats{}), true),
			func(ad *attributeDecoder) error { _, err := decodeServiceReply(ad); return err }, 1},
		{"destination", largeReply(destinationReply(t, dest), true),
			func(ad *attributeDecoder) error { _, err := decodeDestinationReply(ad, IPv4); return err }, 0},
		{"daemon", largeReply(daemonReply(t, daemon), true),
			func(ad *attributeDecoder) error { _, err := decodeDaemonReply(ad); return err }, 1},
		{"info", largeReply([]byte{8, 0, infoVersion, 0, 1, 2, 1, 0, 8, 0, infoConnTabSize, 0, 0, 16, 0, 0}, false),
			func(ad *attributeDecoder) error { _, err := decodeInfo(ad); return err }, 0},
		{"timeouts", largeReply(timeoutsReply(Timeouts{TCP: time.Minute}), false),
			func(ad *attributeDecoder) error { _, err := decodeTimeouts(ad); return err }, 0},
		{"stats", largeReply(stats.b, true),
			func(ad *attributeDecoder) error {
				ad.Next()
				nad := ad.Nested()
				var st Stats
				return decodeStats(&nad, &st, true)
			}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.reply) < 50<<10 {
				t.Fatalf("reply of %d bytes", len(tt.reply))
			}
			if err := tt.decode(&attributeDecoder{rest: tt.reply}); err != nil {
				t.Fatalf("decode: %v", err)
			}
			// One decoder for every run, as the client has one per
			// socket: its own allocation is not the decoding's.
			var ad attributeDecoder
			allocs := testing.AllocsPerRun(10, func() {
				ad = attributeDecoder{rest: tt.reply}
				tt.decode(&ad)
			})
			if allocs > tt.max {
				t.Errorf("%.0f allocations decoding %d bytes, want at most %.0f", allocs, len(tt.reply), tt.max)
			}
		})
	}
}
