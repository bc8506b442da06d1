package compat

import (
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
	services, err := c.ReadServices()
	if err != nil {
		return nil, err
	}
	var order []int
	if sorted {
		order = serviceOrder(services.Len(), func(i int) *ipvs.Service { return &services.At(i).Service })
	}
	service := func(i int) *ipvs.ServiceExtended {
		if order != nil {
			i = order[i]
		}
		return services.At(i)
	}
	return func(yield func(*serviceTable)) error {
		var ds destinationSorter
		return streamDestinations(c, services.Len(), service, func(t *serviceTable) {
			if sorted {
				ds.sort(t.dests, serviceFamily(&t.service.Service))
			}
			yield(t)
		})
	}, nil
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
