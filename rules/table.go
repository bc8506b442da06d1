package rules

import "github.com/lvsgo/ipvsadm/ipvs"

// A Table is the kernel's IPVS table as rules reads and writes it.
// *ipvs.Client is a Table.
type Table interface {
	Services() ([]ipvs.ServiceExtended, error)
	Destinations(ipvs.Service) ([]ipvs.DestinationExtended, error)
	// NewWriter returns a writer of the table, as ipvs.Client.NewWriter
	// does: writes go out in windows while the next are queued, and fn
	// hears the outcome of each, in order.
	NewWriter(fn func(i int, err error)) *ipvs.Writer
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
