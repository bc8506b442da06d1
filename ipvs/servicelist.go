package ipvs

import (
	"errors"
	"net/netip"
)

// A ServiceList is the services of a table as ReadServices read them, in
// the kernel's order. It holds them in chunks of a fixed size: a slice
// grown by append would leave behind, as garbage, every smaller array it
// outgrew, four times the table in all.
type ServiceList struct {
	chunks [][]ServiceExtended
	n      int
}

const serviceChunk = 1024

// Len is the number of services.
func (l *ServiceList) Len() int { return l.n }

// At returns service i, 0 <= i < Len().
func (l *ServiceList) At(i int) *ServiceExtended {
	return &l.chunks[i/serviceChunk][i%serviceChunk]
}

func (l *ServiceList) add(s ServiceExtended) {
	if l.n%serviceChunk == 0 {
		l.chunks = append(l.chunks, make([]ServiceExtended, 0, serviceChunk))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, s)
	l.n++
}

// ReadServices reads every virtual service, each once, even while another
// process changes the table.
//
// IPVS dumps by position: each reply datagram (some 90 services) skips as
// many services as the datagrams before it held, so a service added or
// removed meanwhile, by another process and in any network namespace,
// shifts the rest, and a service that was there all along comes out twice
// or not at all (WalkServices passes that on). So ReadServices checks its
// dump by another, which must list the same services in the same order
// (the kernel's order of an unchanged table). If they differ, the table is
// changing, and the result is the union of the dump and of three more,
// each service once, each made with datagrams of another size: a skip
// happens only where a datagram ends, so a service that was there
// throughout is missing only if all four dumps had a datagram end right
// before it just as a service before it went.
func (c *Client) ReadServices() (*ServiceList, error) {
	list, err := c.dumpServices()
	if err != nil || list.n < 2 {
		return list, err
	}
	same, err := c.sameServices(list)
	if err != nil || same {
		return list, err
	}
	return c.unionServices(list)
}

func (c *Client) dumpServices() (*ServiceList, error) {
	list := &ServiceList{}
	err := c.WalkServices(func(s ServiceExtended) error {
		list.add(s)
		return nil
	})
	return list, err
}

// errDumpDiffers stops a dump that sameServices has seen enough of.
var errDumpDiffers = errors.New("the services differ")

// sameServices reports whether a dump lists the services of list, in order.
func (c *Client) sameServices(list *ServiceList) (bool, error) {
	i := 0
	err := c.WalkServices(func(s ServiceExtended) error {
		if i >= list.n || s.key() != list.At(i).key() {
			return errDumpDiffers
		}
		i++
		return nil
	})
	if errors.Is(err, errDumpDiffers) {
		return false, nil
	}
	return err == nil && i == list.n, err
}

// unionBufferSizes are the receive buffers of unionServices's dumps: the
// kernel fills datagrams up to them, some 60, 40 and 25 services each.
var unionBufferSizes = []int{24000, 15000, 9000}

// unionServices returns the services of list and of a dump with each of
// unionBufferSizes, each once, in the order first seen.
func (c *Client) unionServices(list *ServiceList) (*ServiceList, error) {
	union := &ServiceList{}
	seen := make(map[serviceKey]bool, list.n)
	add := func(s *ServiceExtended) {
		if key := s.key(); !seen[key] {
			seen[key] = true
			union.add(*s)
		}
	}
	for i := range list.n {
		add(list.At(i))
	}
	for _, size := range unionBufferSizes {
		if err := c.c.walkServicesChunked(size, func(s ServiceExtended) error {
			add(&s)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return union, nil
}

// A serviceKey is what identifies a service in the kernel.
type serviceKey struct {
	family   Family
	fwmark   uint32
	protocol Protocol
	addr     netip.Addr
	port     uint16
}

func (s *Service) key() serviceKey {
	if s.FirewallMark != 0 {
		return serviceKey{family: s.family(), fwmark: s.FirewallMark}
	}
	return serviceKey{family: s.family(), protocol: s.Protocol, addr: s.Address, port: s.Port}
}
