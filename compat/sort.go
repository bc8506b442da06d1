package compat

import "github.com/lvsgo/ipvsadm/ipvs"

// This file is ipvsadm 1.31's sort of a listing: libipvs's comparators,
// which subtract unsigned 32-bit values and read the difference as an int,
// under glibc's qsort, which is a stable top-down merge sort. Because the
// wrapped differences are not a consistent order (192.168.0.1 compares below
// 10.0.0.1, 10.0.0.1 below 127.0.0.1, 127.0.0.1 below 192.168.0.1), the
// result depends on the exact merges made, so the merge sort is written out
// here rather than borrowed from package sort or slices.

// sortServices sorts the table in place as ipvsadm does for -L (without
// --nosort) and -S: the services by ipvs_cmp_services, and the destinations
// of each service by ipvs_cmp_dests.
func sortServices(table []serviceTable) {
	if len(table) > 1 {
		order := serviceOrder(len(table), func(i int) *ipvs.Service { return &table[i].service.Service })
		sorted := make([]serviceTable, len(table))
		for i, j := range order {
			sorted[i] = table[j]
		}
		copy(table, sorted)
	}
	var ds destinationSorter
	for i := range table {
		ds.sort(table[i].dests, serviceFamily(&table[i].service.Service))
	}
}

// serviceOrder returns the indices of n services in ipvsadm's order;
// service(i) is the i-th.
func serviceOrder(n int, service func(int) *ipvs.Service) []int {
	keyed := make([]keyedService, n)
	for i := range keyed {
		keyed[i] = keyedService{serviceKeyOf(service(i)), i}
	}
	mergeSort(keyed, make([]keyedService, n), func(a, b *keyedService) int {
		return compareServices(&a.key, &b.key)
	})
	order := make([]int, n)
	for i, k := range keyed {
		order[i] = k.index
	}
	return order
}

// A destinationSorter sorts the destinations of one service after another
// in the same buffers.
type destinationSorter struct {
	keyed, tmp []keyedDestination
	sorted     []ipvs.DestinationExtended
}

// sort sorts the destinations of a service of family af.
func (s *destinationSorter) sort(dests []ipvs.DestinationExtended, af ipvs.Family) {
	n := len(dests)
	if n < 2 {
		return
	}
	if cap(s.keyed) < n {
		s.keyed = make([]keyedDestination, n)
		s.tmp = make([]keyedDestination, n)
		s.sorted = make([]ipvs.DestinationExtended, n)
	}
	keyed, sorted := s.keyed[:n], s.sorted[:n]
	for i := range dests {
		d := &dests[i].Destination
		keyed[i] = keyedDestination{destinationKey{
			af:   uint16(destinationFamily(d, af)),
			addr: inetAddrOf(d.Address),
			port: d.Port,
		}, i}
	}
	mergeSort(keyed, s.tmp[:n], func(a, b *keyedDestination) int {
		return compareDestinations(&a.key, &b.key)
	})
	for i, k := range keyed {
		sorted[i] = dests[k.index]
	}
	copy(dests, sorted)
}

// A serviceKey is what ipvs_cmp_services reads of a service. libipvs leaves
// protocol, address and port zero for a firewall-mark service.
type serviceKey struct {
	fwmark uint32
	af     uint16
	proto  uint16
	addr   inetAddr
	port   uint16
}

type keyedService struct {
	key   serviceKey
	index int
}

func serviceKeyOf(s *ipvs.Service) serviceKey {
	k := serviceKey{fwmark: s.FirewallMark, af: uint16(serviceFamily(s))}
	if s.FirewallMark == 0 {
		k.proto = uint16(s.Protocol)
		k.addr = inetAddrOf(s.Address)
		k.port = s.Port
	}
	return k
}

// compareServices is ipvs_cmp_services: the firewall mark, the family, the
// protocol, the address (four words if the first service is IPv6, else one)
// and the port. Marks and address words are compared by wrapped 32-bit
// difference, the 16-bit fields by plain difference.
func compareServices(a, b *serviceKey) int {
	if r := int32(a.fwmark - b.fwmark); r != 0 {
		return int(r)
	}
	if r := int(a.af) - int(b.af); r != 0 {
		return r
	}
	if r := int(a.proto) - int(b.proto); r != 0 {
		return r
	}
	if r := compareAddrs(ipvs.Family(a.af), &a.addr, &b.addr); r != 0 {
		return r
	}
	return int(a.port) - int(b.port)
}

// A destinationKey is what ipvs_cmp_dests reads of a destination.
type destinationKey struct {
	af   uint16
	addr inetAddr
	port uint16
}

type keyedDestination struct {
	key   destinationKey
	index int
}

// compareDestinations is ipvs_cmp_dests: the address, read in the family of
// the first destination (so an IPv4 destination against an IPv6 one
// compares only the first word), then the port.
func compareDestinations(a, b *destinationKey) int {
	if r := compareAddrs(ipvs.Family(a.af), &a.addr, &b.addr); r != 0 {
		return r
	}
	return int(a.port) - int(b.port)
}

// compareAddrs compares two address unions word by word as libipvs does:
// ntohl(a) - ntohl(b) in unsigned arithmetic, read as an int.
func compareAddrs(af ipvs.Family, a, b *inetAddr) int {
	words := 1
	if af == ipvs.IPv6 {
		words = 4
	}
	for i := range words {
		if r := int32(a.word(i) - b.word(i)); r != 0 {
			return int(r)
		}
	}
	return 0
}

// mergeSort sorts s as glibc's msort_with_tmp: split n elements into the
// first n/2 and the rest, sort each, and merge them, taking from the first
// half while cmp(first, second) <= 0. tmp must be as long as s.
func mergeSort[T any](s, tmp []T, cmp func(a, b *T) int) {
	n := len(s)
	if n <= 1 {
		return
	}
	n1 := n / 2
	mergeSort(s[:n1], tmp, cmp)
	mergeSort(s[n1:], tmp, cmp)
	i, j, k := 0, n1, 0
	for i < n1 && j < n {
		if cmp(&s[i], &s[j]) <= 0 {
			tmp[k] = s[i]
			i++
		} else {
			tmp[k] = s[j]
			j++
		}
		k++
	}
	k += copy(tmp[k:], s[i:n1])
	copy(s, tmp[:k])
}
