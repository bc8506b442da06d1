package rules

import "github.com/lvsgo/ipvsadm/ipvs"

// A Table is the kernel's IPVS table as rules reads and writes it.
// *ipvs.Client is a Table.
type Table interface {
	Services() ([]ipvs.ServiceExtended, error)
	Destinations(ipvs.Service) ([]ipvs.DestinationExtended, error)
	// Apply makes the writes in order and calls fn with the outcome of
	// each that was sent, as ipvs.Client.Apply does: when fn returns
	// false, no further batch is sent.
	Apply(ops []ipvs.Op, fn func(i int, err error) bool) error
}

// Read returns the table's rule set, in the kernel's order: services as it
// dumps them, destinations of each newest first.
func Read(t Table) (*Set, error) {
	services, err := t.Services()
	if err != nil {
		return nil, err
	}
	set := &Set{Services: make([]Service, len(services))}
	for i := range services {
		dests, err := t.Destinations(services[i].Service)
		if err != nil {
			return nil, err
		}
		s := &set.Services[i]
		s.Service = services[i].Service
		s.Destinations = make([]Destination, len(dests))
		for j := range dests {
			s.Destinations[j].Destination = dests[j].Destination
		}
	}
	return set, nil
}
