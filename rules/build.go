package rules

import (
	"strings"
	"syscall"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// A builder makes a Set from writes, refusing those the kernel would
// refuse for the state of the table, with the kernel's errno.
//
// It is on the path of every restore line, so each write costs it O(1):
// a service or destination removed is only marked (Line is removed) and
// the Set is compacted once, in finish, instead of shifting and
// re-indexing what follows it; a service of many destinations finds them
// by an index instead of a search; and the destinations of all services
// are cut from one array sized for the input (see addDestination).
type builder struct {
	set      *Set
	capacity int                  // of set.Services, made on the first -A
	services keyIndex[serviceKey] // of the services not removed
	// servicesRemoved counts the services marked removed since the
	// last flush, for finish.
	servicesRemoved int
	// destsRemoved tells finish that some destination is marked removed.
	destsRemoved bool
	// dests indexes the destinations of services that have more than
	// indexedDestinations of them, by service; a service's positions stay
	// put until finish, so the index does too.
	dests map[int]*keyIndex[destinationKey]
	// last is the service the previous write named: -S writes a
	// service's -a lines right after its -A line, so most lines find
	// their service here without a map lookup. It is reset whenever
	// positions may change meaning (a removal, a flush).
	last      serviceKey
	lastIndex int // -1 for none
	// arena holds the destinations of services in the order they get
	// their first one; tail is the service whose destinations end the
	// used part (-1 for none), at tailStart, and may still grow there.
	arena     []Destination
	used      int
	tail      int
	tailStart int
	// names are the scheduler and persistence engine names seen, so that
	// a Set holds one copy of each rather than pieces of the input.
	names    map[string]string
	lastName string
}

// removed marks a Service or Destination the builder removed, until
// finish drops it: a parsed one has a Line of 1 or more.
const removed = -1

// indexedDestinations is how many destinations a service has before the
// builder indexes them: below it, comparing keys in turn is cheaper than
// a map.
const indexedDestinations = 16

// newBuilder returns a builder whose Set has room for services services
// and whose arena has room for dests destinations: the counts of -A and -a
// lines, which a load of a saved table holds in that number.
func newBuilder(services, dests int) *builder {
	return &builder{
		set:       &Set{},
		capacity:  services,
		services:  newKeyIndex[serviceKey](services),
		lastIndex: -1,
		arena:     make([]Destination, dests),
		tail:      -1,
	}
}

func (b *builder) apply(op *ipvs.Op, line int) error {
	set := b.set
	if op.Command == ipvs.CmdFlush {
		b.closeTail()
		set.Services = set.Services[:0]
		b.services.clear()
		clear(b.dests)
		b.servicesRemoved, b.lastIndex = 0, -1
		return nil
	}
	key := keyOf(&op.Service)
	i, exists := b.lastIndex, b.lastIndex >= 0 && key == b.last
	if !exists && op.Command != ipvs.CmdNewService {
		i, exists = b.services.get(key)
	}
	switch op.Command {
	case ipvs.CmdNewService:
		if exists {
			return syscall.EEXIST
		}
		if set.Services == nil {
			// Not before: a Set without services has none (nil).
			set.Services = make([]Service, 0, max(b.capacity, 1))
		}
		i = len(set.Services)
		// One map operation, not a lookup and then an insertion: a key
		// the index has already is refused, and a refusal ends the
		// parse, so what the insertion overwrote does not matter.
		if !b.services.set(key, i) {
			return syscall.EEXIST
		}
		b.last, b.lastIndex = key, i
		set.Services = append(set.Services, Service{Service: op.Service, Line: line})
		b.intern(&set.Services[i].Service)
		return nil
	case ipvs.CmdSetService:
		if !exists {
			return syscall.ESRCH
		}
		set.Services[i].Service, set.Services[i].Line = op.Service, line
		b.intern(&set.Services[i].Service)
		return nil
	case ipvs.CmdDelService:
		if !exists {
			return syscall.ESRCH
		}
		set.Services[i].Line = removed
		b.servicesRemoved++
		b.services.delete(key)
		delete(b.dests, i)
		b.lastIndex = -1
		return nil
	}
	if !exists {
		return syscall.ESRCH
	}
	b.last, b.lastIndex = key, i
	if (op.Command == ipvs.CmdNewDestination || op.Command == ipvs.CmdSetDestination) &&
		op.Destination.LowerThreshold > op.Destination.UpperThreshold {
		// ip_vs_add_dest and ip_vs_edit_dest compare the two as given,
		// so a lower threshold over no upper one (0) is refused too.
		return syscall.ERANGE
	}
	svc := &set.Services[i]
	dkey := destinationKeyOf(&op.Destination)
	j := b.findDestination(i, svc, dkey)
	switch op.Command {
	case ipvs.CmdNewDestination:
		if j >= 0 {
			return syscall.EEXIST
		}
		b.addDestination(i, svc, Destination{Destination: op.Destination, Line: line})
		if ix := b.dests[i]; ix != nil {
			ix.set(dkey, len(svc.Destinations)-1)
		} else if len(svc.Destinations) > indexedDestinations {
			b.indexDestinations(i, svc)
		}
	case ipvs.CmdSetDestination:
		if j < 0 {
			return syscall.ENOENT
		}
		svc.Destinations[j] = Destination{Destination: op.Destination, Line: line}
	case ipvs.CmdDelDestination:
		if j < 0 {
			return syscall.ENOENT
		}
		svc.Destinations[j].Line = removed
		b.destsRemoved = true
		if ix := b.dests[i]; ix != nil {
			ix.delete(dkey)
		}
	}
	return nil
}

// findDestination returns the position of the destination of service i
// (svc) with key k, or -1.
func (b *builder) findDestination(i int, svc *Service, k destinationKey) int {
	if ix := b.dests[i]; ix != nil {
		if j, ok := ix.get(k); ok {
			return j
		}
		return -1
	}
	for j := range svc.Destinations {
		d := &svc.Destinations[j]
		if d.Line != removed && destinationKeyOf(&d.Destination) == k {
			return j
		}
	}
	return -1
}

func (b *builder) indexDestinations(i int, svc *Service) {
	if b.dests == nil {
		b.dests = make(map[int]*keyIndex[destinationKey])
	}
	ix := newKeyIndex[destinationKey](2 * len(svc.Destinations))
	for j := range svc.Destinations {
		if d := &svc.Destinations[j]; d.Line != removed {
			ix.set(destinationKeyOf(&d.Destination), j)
		}
	}
	b.dests[i] = &ix
}

// addDestination appends d to the destinations of service i (svc). A
// service's first destination opens a window at the free end of the
// arena, and the service grows in place there while no other service has
// opened one after it; so a load whose -a lines follow their -A line (as
// -S writes them) allocates once for all destinations instead of once or
// more per service. A service that grows after another has opened a
// window is capped first and so moves out by append's copy, as it
// would have without the arena.
func (b *builder) addDestination(i int, svc *Service, d Destination) {
	if cap(svc.Destinations) == 0 {
		b.closeTail()
		if b.used < len(b.arena) {
			svc.Destinations = b.arena[b.used:b.used]
			b.tail, b.tailStart = i, b.used
		}
	}
	svc.Destinations = append(svc.Destinations, d)
}

// closeTail caps the destinations of the tail service where they end, so
// that a later append to them copies them out instead of overwriting the
// next window, and marks the rest of the arena free.
func (b *builder) closeTail() {
	if b.tail < 0 {
		return
	}
	t := &b.set.Services[b.tail]
	n := len(t.Destinations)
	t.Destinations = t.Destinations[:n:n]
	b.used = min(b.tailStart+n, len(b.arena))
	b.tail = -1
}

// intern replaces the names of s with the builder's copies.
func (b *builder) intern(s *ipvs.Service) {
	s.Scheduler = b.name(s.Scheduler)
	if s.PersistenceEngine != "" {
		s.PersistenceEngine = b.name(s.PersistenceEngine)
	}
}

func (b *builder) name(s string) string {
	if s == b.lastName {
		// A saved table names one scheduler for most services.
		return b.lastName
	}
	n, ok := b.names[s]
	if !ok {
		if b.names == nil {
			b.names = make(map[string]string)
		}
		n = strings.Clone(s)
		b.names[n] = n
	}
	b.lastName = n
	return n
}

// finish drops what was marked removed and returns the Set.
func (b *builder) finish() *Set {
	b.closeTail()
	set := b.set
	if b.servicesRemoved > 0 {
		kept := set.Services[:0]
		for i := range set.Services {
			if set.Services[i].Line != removed {
				kept = append(kept, set.Services[i])
			}
		}
		clear(set.Services[len(kept):])
		set.Services = kept
	}
	if b.destsRemoved {
		for i := range set.Services {
			s := &set.Services[i]
			kept := s.Destinations[:0]
			for j := range s.Destinations {
				if s.Destinations[j].Line != removed {
					kept = append(kept, s.Destinations[j])
				}
			}
			if len(kept) < len(s.Destinations) {
				clear(s.Destinations[len(kept):])
				s.Destinations = kept
			}
		}
	}
	return set
}
