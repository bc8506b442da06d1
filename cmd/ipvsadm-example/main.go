// Command ipvsadm-example shows the ipvs library at work: it sets up the
// direct-routing load balancer an LVS operator would type with ipvsadm
// (a round-robin web service, two real servers), lists it, and clears it
// again unless -keep is given.
//
//	ipvsadm -A -t 192.0.2.10:80 -s rr
//	ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.11 -g
//	ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.12 -g
package main

import (
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"text/tabwriter"

	"github.com/lvsgo/ipvsadm/ipvs"
)

func main() {
	keep := flag.Bool("keep", false, "leave the service in the table")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("ipvsadm-example: ")

	c, err := ipvs.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	web := ipvs.Service{
		Protocol:  ipvs.TCP,
		Address:   netip.MustParseAddr("192.0.2.10"),
		Port:      80,
		Scheduler: "rr",
		Netmask:   0xffffffff,
	}
	ops := []ipvs.Op{{Command: ipvs.CmdNewService, Service: web}}
	for _, a := range []string{"10.0.0.11", "10.0.0.12"} {
		ops = append(ops, ipvs.Op{Command: ipvs.CmdNewDestination, Service: web, Destination: ipvs.Destination{
			Address: netip.MustParseAddr(a), Port: 80, Forwarding: ipvs.Route, Weight: 1,
		}})
	}
	// One batch: three requests in one system call, an outcome for each.
	failed := false
	if err := c.Apply(ops, func(i int, err error) bool {
		if err != nil {
			log.Printf("%v %v: %v", ops[i].Command, ops[i].Service, err)
			failed = true
		}
		return true
	}); err != nil {
		log.Fatal(err)
	}
	if failed {
		os.Exit(1)
	}

	if err := list(c); err != nil {
		log.Fatal(err)
	}
	if !*keep {
		if err := c.DeleteService(web); err != nil {
			log.Fatal(err)
		}
	}
}

func list(c *ipvs.Client) error {
	info, err := c.Info()
	if err != nil {
		return err
	}
	fmt.Printf("IPVS %v, connection table of %d buckets\n", info.Version, info.ConnectionTableSize)
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tSCHEDULER\tSERVER\tFORWARD\tWEIGHT\tACTIVE\tINACTIVE")
	services, err := c.Services()
	if err != nil {
		return err
	}
	for _, s := range services {
		fmt.Fprintf(w, "%v\t%s\t\t\t\t\t\n", s.Service, s.Scheduler)
		dests, err := c.Destinations(s.Service)
		if err != nil {
			return err
		}
		for _, d := range dests {
			fmt.Fprintf(w, "\t\t%v\t%v\t%d\t%d\t%d\n", d.Destination, d.Forwarding, d.Weight, d.ActiveConnections, d.InactiveConnections)
		}
	}
	return w.Flush()
}
