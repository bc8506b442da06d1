package compat

import (
	"errors"
	"sync"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// This file reads the table for -L and -S from the kernel as a stream: the
// services first (the listing must sort them), then the destinations of one
// service after another in listing order, each service written as soon as
// its destinations are in. Only the services are held whole; at 50,000
// services of one destination, holding the destinations too (and the
// services a second time to sort them) was seven times ipvsadm's memory.

// A serviceTable is a service with its destinations, as read from the kernel.
type serviceTable struct {
	service ipvs.ServiceExtended
	dests   []ipvs.DestinationExtended
}

// A rowSource hands the services of a listing, each with its destinations,
// to yield in listing order. Its error is the first read that failed,
// after the services before it were handed over, as ipvsadm prints the
// services before the one whose destinations it could not get.
type rowSource func(yield func(*serviceTable)) error

// tableRows is a rowSource over a table in memory, sorted in place first if
// sorted.
func tableRows(table []serviceTable, sorted bool) rowSource {
	return func(yield func(*serviceTable)) error {
		if sorted {
			sortServices(table)
		}
		for i := range table {
			yield(&table[i])
		}
		return nil
	}
}

// A destinationsError is the failure to get a service's destinations
// (libipvs's ipvs_get_dests), apart from a failure to write the listing.
type destinationsError struct{ err error }

func (e destinationsError) Error() string { return e.err.Error() }
func (e destinationsError) Unwrap() error { return e.err }

// kernelRows reads the services from the kernel and returns the rowSource
// that streams them with their destinations, sorted as ipvsadm sorts if
// sorted. The error is that of the services' dump.
func kernelRows(c *ipvs.Client, sorted bool) (rowSource, error) {
	services, err := readServices(c)
	if err != nil {
		return nil, err
	}
	var order []int
	if sorted {
		order = serviceOrder(services.n, func(i int) *ipvs.Service { return &services.at(i).Service })
	}
	service := func(i int) *ipvs.ServiceExtended {
		if order != nil {
			i = order[i]
		}
		return services.at(i)
	}
	return func(yield func(*serviceTable)) error {
		var ds destinationSorter
		return streamDestinations(c, services.n, service, func(t *serviceTable) {
			if sorted {
				ds.sort(t.dests, serviceFamily(&t.service.Service))
			}
			yield(t)
		})
	}, nil
}

// serviceDumps bounds the dumps readServices makes before it settles for
// the union of two.
const serviceDumps = 4

// readServices dumps the services. IPVS dumps by position: each reply
// datagram (about 90 services) skips as many services as the datagrams
// before it held, so a service added or removed meanwhile, by another
// process and in any network namespace, shifts the rest, and a service
// that was there all along comes out twice or not at all. So the dump is
// checked by another, which must list the same services in the same order
// (the kernel's order of an unchanged table); if they differ, the table
// changed, and it is dumped again. A table that keeps changing gets the
// union of two dumps, each service once: every service that was there
// throughout is in it unless both dumps skipped it.
func readServices(c *ipvs.Client) (*serviceList, error) {
	list, err := dumpServices(c)
	if err != nil || list.n < 2 {
		return list, err
	}
	for range serviceDumps - 2 {
		same, err := sameServices(c, list)
		if err != nil || same {
			return list, err
		}
		if list, err = dumpServices(c); err != nil {
			return nil, err
		}
	}
	return unionServices(c, list)
}

func dumpServices(c *ipvs.Client) (*serviceList, error) {
	list := &serviceList{}
	err := c.WalkServices(func(s ipvs.ServiceExtended) error {
		list.add(s)
		return nil
	})
	return list, err
}

// errDumpDiffers stops a dump that sameServices has seen enough of.
var errDumpDiffers = errors.New("the services differ")

// sameServices reports whether a dump lists the services of list, in order.
func sameServices(c *ipvs.Client, list *serviceList) (bool, error) {
	i := 0
	err := c.WalkServices(func(s ipvs.ServiceExtended) error {
		if i >= list.n || serviceKeyOf(&s.Service) != serviceKeyOf(&list.at(i).Service) {
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

// unionServices returns the services of list and of one more dump, each
// once, in the order first seen.
func unionServices(c *ipvs.Client, list *serviceList) (*serviceList, error) {
	union := &serviceList{}
	seen := make(map[serviceKey]bool, list.n)
	add := func(s *ipvs.ServiceExtended) {
		if key := serviceKeyOf(&s.Service); !seen[key] {
			seen[key] = true
			union.add(*s)
		}
	}
	for i := range list.n {
		add(list.at(i))
	}
	err := c.WalkServices(func(s ipvs.ServiceExtended) error {
		add(&s)
		return nil
	})
	return union, err
}

// A serviceList holds a dump's services in chunks of a fixed size: a slice
// grown by append would leave behind, as garbage, every smaller array it
// outgrew, four times the table in all.
type serviceList struct {
	chunks [][]ipvs.ServiceExtended
	n      int
}

const serviceChunk = 1024

func (l *serviceList) add(s ipvs.ServiceExtended) {
	if l.n%serviceChunk == 0 {
		l.chunks = append(l.chunks, make([]ipvs.ServiceExtended, 0, serviceChunk))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, s)
	l.n++
}

func (l *serviceList) at(i int) *ipvs.ServiceExtended {
	return &l.chunks[i/serviceChunk][i%serviceChunk]
}

// tableWorkers is how many destination dumps a listing has in flight; more
// measured no faster on two or four cores. The kernel serves one dump at a
// time (it holds the IPVS mutex), so with two, one dump is decoded while the
// kernel fills the other.
const tableWorkers = 2

// streamDestinations dumps the destinations of services 0 to n-1 and hands
// each service with them to yield, in that order. Worker w dumps services
// w, w+tableWorkers, ... into a buffer of its own, which it gets back when
// yield has returned: the destinations are never held for more than
// tableWorkers services at a time, and not copied.
func streamDestinations(c *ipvs.Client, n int, service func(int) *ipvs.ServiceExtended, yield func(*serviceTable)) error {
	type dump struct {
		dests []ipvs.DestinationExtended
		err   error
	}
	var ready [tableWorkers]chan dump
	var free [tableWorkers]chan []ipvs.DestinationExtended
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range tableWorkers {
		ready[w] = make(chan dump, 1)
		free[w] = make(chan []ipvs.DestinationExtended, 1)
		free[w] <- nil
		wg.Go(func() {
			for i := w; i < n; i += tableWorkers {
				var dests []ipvs.DestinationExtended
				select {
				case dests = <-free[w]:
				case <-stop:
					return
				}
				dests = dests[:0]
				err := c.WalkDestinations(service(i).Service, func(d ipvs.DestinationExtended) error {
					dests = append(dests, d)
					return nil
				})
				select {
				case ready[w] <- dump{dests, err}:
				case <-stop:
					return
				}
				if err != nil {
					return
				}
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	var row serviceTable
	for i := range n {
		d := <-ready[i%tableWorkers]
		if d.err != nil {
			return destinationsError{d.err}
		}
		row = serviceTable{service: *service(i), dests: d.dests}
		yield(&row)
		free[i%tableWorkers] <- d.dests
	}
	return nil
}
