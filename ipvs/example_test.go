package ipvs_test

import (
	"errors"
	"fmt"
	"log"
	"net/netip"
	"os"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// A direct-routing web service with two real servers, as
// ipvsadm -A -t 192.0.2.10:80 -s rr; ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.11 -g ...
func Example() {
	c, err := ipvs.New()
	if errors.Is(err, ipvs.ErrFamilyNotFound) {
		log.Fatal("load the ip_vs module first: modprobe ip_vs")
	}
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	web := ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("192.0.2.10"), Port: 80,
		Scheduler: "rr", Netmask: 0xffffffff}
	if err := c.CreateService(web); err != nil && !errors.Is(err, os.ErrExist) {
		log.Fatal(err)
	}
	for _, a := range []string{"10.0.0.11", "10.0.0.12"} {
		d := ipvs.Destination{Address: netip.MustParseAddr(a), Port: 80, Forwarding: ipvs.Route, Weight: 1}
		if err := c.CreateDestination(web, d); err != nil {
			log.Fatal(err)
		}
	}
	dests, err := c.Destinations(web)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range dests {
		fmt.Println(d.Destination, d.Forwarding, d.ActiveConnections)
	}
}

// Many writes in few system calls, with the outcome of each.
func ExampleClient_Apply() {
	c, err := ipvs.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	var ops []ipvs.Op
	for i := 1; i <= 1000; i++ {
		ops = append(ops, ipvs.Op{Command: ipvs.CmdNewService, Service: ipvs.Service{
			FirewallMark: uint32(i), Scheduler: "wlc", Netmask: 0xffffffff,
		}})
	}
	err = c.Apply(ops, func(i int, err error) bool {
		if err != nil {
			log.Printf("%v: %v", ops[i].Service, err)
			return false // send no further batch
		}
		return true
	})
	if err != nil {
		log.Fatal(err)
	}
}
