package rules

import (
	"net/netip"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// A serviceKey identifies a virtual service as the kernel does: by
// family and firewall mark, or by protocol, address and port.
type serviceKey struct {
	family   ipvs.Family
	protocol ipvs.Protocol
	address  netip.Addr
	port     uint16
	mark     uint32
}

func keyOf(s *ipvs.Service) serviceKey {
	family := s.Family
	if family == 0 && s.Address.IsValid() {
		family = ipvs.IPv4
		if s.Address.Is6() && !s.Address.Is4In6() {
			family = ipvs.IPv6
		}
	}
	if s.FirewallMark != 0 {
		return serviceKey{family: family, mark: s.FirewallMark}
	}
	return serviceKey{family: family, protocol: s.Protocol, address: s.Address, port: s.Port}
}

// pack returns the key in 64 bits if it fits, as the key of an IPv4 or
// firewall-mark service does: a firewall mark with its family, or an IPv4
// address with its port, protocol and family. Distinct keys that fit
// pack distinctly.
func (k serviceKey) pack() (uint64, bool) {
	switch {
	case k.mark != 0 && k.protocol == 0 && !k.address.IsValid() && k.port == 0:
		return 1<<63 | uint64(k.family)<<32 | uint64(k.mark), true
	case k.mark == 0 && k.address.Is4() && k.protocol <= 0xff && k.family <= 0x7f:
		return uint64(k.family)<<56 | uint64(k.protocol)<<48 | uint64(k.port)<<32 | uint64(addr4(k.address)), true
	}
	return 0, false
}

// A destinationKey identifies a destination within its service.
type destinationKey struct {
	address netip.Addr
	port    uint16
}

func destinationKeyOf(d *ipvs.Destination) destinationKey {
	return destinationKey{d.Address, d.Port}
}

// pack returns the key in 64 bits if it fits, as the key of an IPv4
// destination does.
func (k destinationKey) pack() (uint64, bool) {
	if !k.address.Is4() {
		return 0, false
	}
	return uint64(k.port)<<32 | uint64(addr4(k.address)), true
}

func addr4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// A keyIndex maps keys to positions. The keys of nearly every table pack
// into 64 bits, and a map of those hashes and compares a word instead of a
// struct with netip.Addr's pointer, takes a third of the memory, and holds
// nothing the garbage collector has to scan; a key that does not pack
// goes to a map of keys.
type keyIndex[K packable] struct {
	packed map[uint64]int
	other  map[K]int
}

// A packable key has a 64-bit form, maybe.
type packable interface {
	comparable
	pack() (uint64, bool)
}

func newKeyIndex[K packable](n int) keyIndex[K] {
	return keyIndex[K]{packed: make(map[uint64]int, n)}
}

func (x *keyIndex[K]) get(k K) (int, bool) {
	if p, ok := k.pack(); ok {
		i, ok := x.packed[p]
		return i, ok
	}
	i, ok := x.other[k]
	return i, ok
}

// set maps k to i, and reports whether k is new to the index.
func (x *keyIndex[K]) set(k K, i int) bool {
	if p, ok := k.pack(); ok {
		n := len(x.packed)
		x.packed[p] = i
		return len(x.packed) > n
	}
	if x.other == nil {
		x.other = make(map[K]int)
	}
	n := len(x.other)
	x.other[k] = i
	return len(x.other) > n
}

func (x *keyIndex[K]) delete(k K) {
	if p, ok := k.pack(); ok {
		delete(x.packed, p)
		return
	}
	delete(x.other, k)
}

func (x *keyIndex[K]) clear() {
	clear(x.packed)
	clear(x.other)
}

// index returns the positions of s's services by key; of services of one
// key, the last.
func (s *Set) index() keyIndex[serviceKey] {
	ix := newKeyIndex[serviceKey](len(s.Services))
	for i := range s.Services {
		ix.set(keyOf(&s.Services[i].Service), i)
	}
	return ix
}

// A destinationFinder finds the destinations of a service by key: by an
// index when it has many, else by comparing keys in turn, which for a
// few costs less than making a map (Diff looks in every service of a
// table twice).
type destinationFinder struct {
	dests []Destination
	index keyIndex[destinationKey]
}

func destinationsOf(s *Service) destinationFinder {
	f := destinationFinder{dests: s.Destinations}
	if len(s.Destinations) > indexedDestinations {
		f.index = newKeyIndex[destinationKey](len(s.Destinations))
		for i := range s.Destinations {
			f.index.set(destinationKeyOf(&s.Destinations[i].Destination), i)
		}
	}
	return f
}

// find returns the position of the destination with key k; of several,
// the last, as the index holds it.
func (f *destinationFinder) find(k destinationKey) (int, bool) {
	if f.index.packed != nil {
		return f.index.get(k)
	}
	for i := len(f.dests) - 1; i >= 0; i-- {
		if destinationKeyOf(&f.dests[i].Destination) == k {
			return i, true
		}
	}
	return 0, false
}
