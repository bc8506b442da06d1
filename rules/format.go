package rules

import (
	"io"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// Format writes s as ipvsadm -S writes a table: services sorted as ipvsadm
// sorts them, each -A line followed by the -a lines of its destinations.
// With numeric (-S -n) addresses and ports are numbers; otherwise names
// resolves them, and nil leaves them numbers.
func Format(w io.Writer, s *Set, numeric bool, names compat.Names) error {
	if names == nil {
		numeric = true
	}
	services := make([]ipvs.Service, len(s.Services))
	dests := make([][]ipvs.Destination, len(s.Services))
	for i := range s.Services {
		services[i] = s.Services[i].Service
		dests[i] = make([]ipvs.Destination, len(s.Services[i].Destinations))
		for j := range s.Services[i].Destinations {
			dests[i][j] = s.Services[i].Destinations[j].Destination
		}
	}
	return compat.WriteSave(w, services, dests, numeric, names)
}
