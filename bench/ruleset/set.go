package ruleset

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Set is a table of Services TCP services with DestsPerService destinations
// each. Its contents are a function of the two sizes alone, so the
// reference and ours always load the same table.
type Set struct {
	Services        int
	DestsPerService int
}

// Service is one virtual service of a set.
type Service struct {
	Address   netip.Addr
	Port      uint16
	Scheduler string
}

// Destination is one real server of a service, forwarded by masquerading
// (NAT), ipvsadm's -m.
type Destination struct {
	Address netip.Addr
	Port    uint16
	Weight  uint32
}

const (
	servicePort     = 80
	destinationPort = 8080
	scheduler       = "rr"
)

// Address plan: services from 10.1.0.1, destinations from 10.128.0.1, one
// address each, so no service shares a destination with another and the
// largest set (50,000 × 1) stays far from the ends of the ranges.
var (
	serviceBase     = netip.MustParseAddr("10.1.0.0")
	destinationBase = netip.MustParseAddr("10.128.0.0")
)

// MaxEntries bounds services and destinations of a set: each range holds
// 2^23 addresses.
const MaxEntries = 1 << 23

// Parse reads a set from its short form "SERVICESxDESTS", e.g. "1000x4".
func Parse(s string) (Set, error) {
	a, b, ok := strings.Cut(s, "x")
	if !ok {
		return Set{}, fmt.Errorf("set %q: want SERVICESxDESTS, e.g. 1000x4", s)
	}
	n, err1 := strconv.Atoi(a)
	d, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return Set{}, fmt.Errorf("set %q: want SERVICESxDESTS, e.g. 1000x4", s)
	}
	set := Set{Services: n, DestsPerService: d}
	return set, set.Validate()
}

// Validate checks that the set fits its address ranges.
func (s Set) Validate() error {
	if s.Services < 1 || s.DestsPerService < 0 || s.Services >= MaxEntries ||
		s.Services*s.DestsPerService >= MaxEntries {
		return fmt.Errorf("set %d × %d: services must be 1 to %d, destinations in all below %d",
			s.Services, s.DestsPerService, MaxEntries-1, MaxEntries)
	}
	return nil
}

// Short is the set's name on command lines and in file names: "1000x4".
func (s Set) Short() string { return fmt.Sprintf("%dx%d", s.Services, s.DestsPerService) }

// Label is the set's name in tables: "1,000 × 4".
func (s Set) Label() string {
	return Thousands(s.Services) + " × " + Thousands(s.DestsPerService)
}

// Rules is the number of lines of the set's restore input: one per
// service, one per destination.
func (s Set) Rules() int { return s.Services * (1 + s.DestsPerService) }

// Service returns the i-th service, from 0.
func (s Set) Service(i int) Service {
	return Service{Address: offset(serviceBase, i+1), Port: servicePort, Scheduler: scheduler}
}

// Destination returns the j-th destination of the i-th service.
func (s Set) Destination(i, j int) Destination {
	k := i*s.DestsPerService + j
	// Weights 1 to 5: not all equal, so a restore that dropped them would
	// show in the listing.
	return Destination{Address: offset(destinationBase, k+1), Port: destinationPort, Weight: uint32(k%5 + 1)}
}

// WriteRestore writes the set as ipvsadm -R input, in ipvsadm-save -n's
// form: each service followed by its destinations.
func (s Set) WriteRestore(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for i := range s.Services {
		svc := s.Service(i)
		key := svc.Key()
		fmt.Fprintf(bw, "-A -t %s -s %s\n", key, svc.Scheduler)
		for j := range s.DestsPerService {
			d := s.Destination(i, j)
			fmt.Fprintf(bw, "-a -t %s -r %s -m -w %d\n", key, netip.AddrPortFrom(d.Address, d.Port), d.Weight)
		}
	}
	return bw.Flush()
}

// Key is the service as ipvsadm names it after -t: "10.1.0.1:80".
func (s Service) Key() string { return netip.AddrPortFrom(s.Address, s.Port).String() }

// offset returns the IPv4 address n above base.
func offset(base netip.Addr, n int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Thousands writes n with a comma between groups of three digits, as the
// issue and the report name sizes: 50000 is "50,000".
func Thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
