package testenv

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// A TableEntry is a service as a kernel reports it, with its destinations.
type TableEntry struct {
	Service      ipvs.ServiceExtended
	Destinations []ipvs.DestinationExtended
}

// ReadTable reads the whole table with c, everything the kernel reports of
// it, services in the order of their names (the kernel's dump order follows
// its hash table), and destinations in the kernel's order or, if
// sortDestinations, in address order.
func ReadTable(t testing.TB, c *ipvs.Client, sortDestinations bool) []TableEntry {
	t.Helper()
	services, err := c.Services()
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	table := make([]TableEntry, len(services))
	for i, s := range services {
		dests, err := c.Destinations(s.Service)
		if err != nil {
			t.Fatalf("Destinations(%v): %v", s.Service, err)
		}
		if sortDestinations {
			slices.SortFunc(dests, func(a, b ipvs.DestinationExtended) int {
				return cmp.Or(a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
			})
		}
		table[i] = TableEntry{s, dests}
	}
	SortTable(table)
	return table
}

// SortTable sorts services in the order of their names.
func SortTable(table []TableEntry) {
	slices.SortFunc(table, func(a, b TableEntry) int { return strings.Compare(a.Service.String(), b.Service.String()) })
}
