//go:build linux

package ipvs_test

import (
	"errors"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"golang.org/x/sys/unix"
)

// The scenarios in this file run against both kernels: the in-memory one of
// ipvstest always, the real one where the test runs as root on a kernel with
// IPVS (make vmtest). Both must meet the same expectations, which is what
// holds the emulation to the kernel.

// forEachKernel runs fn on a fresh, empty table of each kernel.
func forEachKernel(t *testing.T, fn func(t *testing.T, c *ipvs.Client)) {
	t.Helper()
	t.Run("ipvstest", func(t *testing.T) {
		c, err := ipvs.NewFromConn(ipvstest.New().Dial())
		if err != nil {
			t.Fatalf("NewFromConn: %v", err)
		}
		defer c.Close()
		fn(t, c)
	})
	t.Run("kernel", func(t *testing.T) {
		fn(t, kernelClient(t))
	})
}

// kernelClient returns a client of the real kernel with an empty table,
// default timeouts and no daemons. It runs only inside the test VM
// (IPVS_VM set by make vmtest): the tests flush the table, which must never
// happen to a host's real load balancer. Inside the VM a kernel without IPVS
// is a failure, not a skip.
func kernelClient(t *testing.T) *ipvs.Client {
	t.Helper()
	if os.Getenv("IPVS_VM") == "" {
		t.Skip("skipped: real-kernel tests flush the IPVS table, so they run only in the VM (make vmtest)")
	}
	c, err := ipvs.New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		resetKernel(t, c)
		c.Close()
	})
	resetKernel(t, c)
	return c
}

// resetKernel brings the real kernel back to a fresh state.
func resetKernel(t *testing.T, c *ipvs.Client) {
	t.Helper()
	resetTable(t, c)
	if err := c.SetTimeouts(defaultTimeouts); err != nil {
		t.Fatalf("SetTimeouts: %v", err)
	}
}

var defaultTimeouts = ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}

var (
	addr = netip.MustParseAddr
	// cmpAddr compares netip values by value, which cmp cannot look into.
	cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
)

// A serviceTable is a service and its destinations in the order they are
// added.
type serviceTable struct {
	service ipvs.Service
	dests   []ipvs.Destination
}

// A tableScenario is one table built two ways: by the ipvsadm command lines
// (run by the reference in the VM) and by the library from the model
// values, which must be what the reference's lines mean.
type tableScenario struct {
	name     string
	ipvsadm  [][]string
	services []serviceTable
}

var tableScenarios = []tableScenario{
	{
		name: "tcp rr with direct-routing servers",
		ipvsadm: [][]string{
			{"-A", "-t", "10.0.0.1:80", "-s", "rr"},
			{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.1", "-g", "-w", "1"},
			{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-g", "-w", "2"},
		},
		services: []serviceTable{{
			service: ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.0.0.1"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff},
			dests: []ipvs.Destination{
				{Address: addr("10.0.1.1"), Port: 80, Forwarding: ipvs.Route, Weight: 1},
				{Address: addr("10.0.1.2"), Port: 80, Forwarding: ipvs.Route, Weight: 2},
			},
		}},
	},
	{
		name: "udp one-packet with NAT servers, weights 0 and maximum, thresholds",
		ipvsadm: [][]string{
			{"-A", "-u", "10.0.0.2:53", "-s", "wrr", "-o"},
			{"-a", "-u", "10.0.0.2:53", "-r", "10.0.1.3:5353", "-m", "-w", "0"},
			{"-a", "-u", "10.0.0.2:53", "-r", "10.0.1.4:53", "-m", "-w", "2147483647", "-x", "1000", "-y", "100"},
		},
		services: []serviceTable{{
			service: ipvs.Service{Protocol: ipvs.UDP, Address: addr("10.0.0.2"), Port: 53, Scheduler: "wrr", Flags: ipvs.FlagOnePacket, Netmask: 0xffffffff},
			dests: []ipvs.Destination{
				{Address: addr("10.0.1.3"), Port: 5353, Forwarding: ipvs.Masquerade, Weight: 0},
				{Address: addr("10.0.1.4"), Port: 53, Forwarding: ipvs.Masquerade, Weight: 2147483647, UpperThreshold: 1000, LowerThreshold: 100},
			},
		}},
	},
	{
		name: "sctp persistent with netmask and sh flags",
		ipvsadm: [][]string{
			{"--add-service", "--sctp-service", "10.0.0.3:5060", "-s", "sh", "-b", "sh-fallback,sh-port", "-p", "600", "-M", "255.255.255.0"},
			{"-a", "--sctp-service", "10.0.0.3:5060", "-r", "10.0.1.5:5060", "-m"},
		},
		services: []serviceTable{{
			service: ipvs.Service{Protocol: ipvs.SCTP, Address: addr("10.0.0.3"), Port: 5060, Scheduler: "sh",
				Flags: ipvs.FlagPersistent | ipvs.FlagSched1 | ipvs.FlagSched2, Timeout: 600, Netmask: 0xffffff00},
			dests: []ipvs.Destination{{Address: addr("10.0.1.5"), Port: 5060, Forwarding: ipvs.Masquerade, Weight: 1}},
		}},
	},
	{
		name: "firewall marks, IPv4 with the sip engine and IPv6",
		ipvsadm: [][]string{
			{"-A", "-f", "7", "-s", "lc", "-p", "120", "--pe", "sip"},
			{"-a", "-f", "7", "-r", "10.0.1.6", "-g"},
			{"-A", "-f", "8", "-6", "-s", "wlc", "-p"},
			{"-a", "-f", "8", "-6", "-r", "[2001:db8::5]:80", "-m", "-w", "3"},
		},
		services: []serviceTable{
			{
				service: ipvs.Service{FirewallMark: 7, Scheduler: "lc", Flags: ipvs.FlagPersistent, Timeout: 120, Netmask: 0xffffffff, PersistenceEngine: "sip"},
				dests:   []ipvs.Destination{{Address: addr("10.0.1.6"), Forwarding: ipvs.Route, Weight: 1}},
			},
			{
				service: ipvs.Service{Family: ipvs.IPv6, FirewallMark: 8, Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 360, Netmask: 128},
				dests:   []ipvs.Destination{{Address: addr("2001:db8::5"), Port: 80, Forwarding: ipvs.Masquerade, Weight: 3}},
			},
		},
	},
	{
		name: "IPv6 service with mh port flag and a prefix netmask",
		ipvsadm: [][]string{
			{"-A", "-t", "[2001:db8::1]:443", "-s", "mh", "-b", "mh-port,mh-fallback", "-p", "30", "-M", "64"},
			{"-a", "-t", "[2001:db8::1]:443", "-r", "[2001:db8::10]:8443", "-m", "-w", "5"},
			{"-a", "-t", "[2001:db8::1]:443", "-r", "2001:db8::11", "-g"},
		},
		services: []serviceTable{{
			service: ipvs.Service{Protocol: ipvs.TCP, Address: addr("2001:db8::1"), Port: 443, Scheduler: "mh",
				Flags: ipvs.FlagPersistent | ipvs.FlagSched1 | ipvs.FlagSched2, Timeout: 30, Netmask: 64},
			dests: []ipvs.Destination{
				{Address: addr("2001:db8::10"), Port: 8443, Forwarding: ipvs.Masquerade, Weight: 5},
				{Address: addr("2001:db8::11"), Port: 443, Forwarding: ipvs.Route, Weight: 1},
			},
		}},
	},
	{
		name: "every tunnel type and flag, and an IPv6 server behind an IPv4 service",
		ipvsadm: [][]string{
			{"-A", "-t", "10.0.0.4:8080", "-s", "lblc"},
			{"-a", "-t", "10.0.0.4:8080", "-r", "10.0.1.7", "-i"},
			{"-a", "-t", "10.0.0.4:8080", "-r", "10.0.1.8", "-i", "--tun-type", "gue", "--tun-port", "6080", "--tun-csum"},
			{"-a", "-t", "10.0.0.4:8080", "-r", "10.0.1.9", "-i", "--tun-type", "gue", "--tun-port", "6081", "--tun-remcsum"},
			{"-a", "-t", "10.0.0.4:8080", "-r", "10.0.1.10", "-i", "--tun-type", "gre", "--tun-csum"},
			{"-a", "-t", "10.0.0.4:8080", "-r", "10.0.1.11", "-i", "--tun-type", "gre", "--tun-nocsum"},
			{"-a", "-t", "10.0.0.4:8080", "-r", "2001:db8::7", "-i", "-w", "4"},
		},
		services: []serviceTable{{
			service: ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.0.0.4"), Port: 8080, Scheduler: "lblc", Netmask: 0xffffffff},
			dests: []ipvs.Destination{
				{Address: addr("10.0.1.7"), Port: 8080, Forwarding: ipvs.Tunnel, Weight: 1},
				{Address: addr("10.0.1.8"), Port: 8080, Forwarding: ipvs.Tunnel, Weight: 1, TunnelType: ipvs.GUE, TunnelPort: 6080, TunnelFlags: ipvs.TunnelChecksum},
				{Address: addr("10.0.1.9"), Port: 8080, Forwarding: ipvs.Tunnel, Weight: 1, TunnelType: ipvs.GUE, TunnelPort: 6081, TunnelFlags: ipvs.TunnelRemoteChecksum},
				{Address: addr("10.0.1.10"), Port: 8080, Forwarding: ipvs.Tunnel, Weight: 1, TunnelType: ipvs.GRE, TunnelFlags: ipvs.TunnelChecksum},
				{Address: addr("10.0.1.11"), Port: 8080, Forwarding: ipvs.Tunnel, Weight: 1, TunnelType: ipvs.GRE},
				{Address: addr("2001:db8::7"), Port: 8080, Forwarding: ipvs.Tunnel, Weight: 4},
			},
		}},
	},
	{
		name:     "every scheduler of the 6.1 kernel, with scheduler flags",
		ipvsadm:  schedulerCommands(),
		services: schedulerServices(),
	},
}

var schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}

func schedulerCommands() [][]string {
	var lines [][]string
	for i, s := range schedulers {
		lines = append(lines, []string{"-A", "-t", "10.0.2." + strconv.Itoa(i+1) + ":80", "-s", s, "-b", "flag-1,flag-2,flag-3"})
	}
	return lines
}

func schedulerServices() []serviceTable {
	var table []serviceTable
	for i, s := range schedulers {
		table = append(table, serviceTable{service: ipvs.Service{
			Protocol: ipvs.TCP, Address: addr("10.0.2." + strconv.Itoa(i+1)), Port: 80, Scheduler: s,
			Flags: ipvs.FlagSched1 | ipvs.FlagSched2 | ipvs.FlagSched3, Netmask: 0xffffffff,
		}})
	}
	return table
}

// build creates the scenario's table with the library.
func (sc tableScenario) build(t *testing.T, c *ipvs.Client) {
	t.Helper()
	for _, st := range sc.services {
		if err := c.CreateService(st.service); err != nil {
			t.Fatalf("CreateService(%v): %v", st.service, err)
		}
		for _, d := range st.dests {
			if err := c.CreateDestination(st.service, d); err != nil {
				t.Fatalf("CreateDestination(%v, %v): %v", st.service, d, err)
			}
		}
	}
}

// readBack is the table as the kernel must report it: families filled in,
// every service hashed, destinations newest first (the kernel adds each at
// the head of its service's list), counters zero.
func (sc tableScenario) readBack() []testenv.TableEntry {
	var want []testenv.TableEntry
	for _, st := range sc.services {
		s := st.service
		if s.Family == 0 {
			if s.Address.Is4() || s.FirewallMark != 0 {
				s.Family = ipvs.IPv4
			} else {
				s.Family = ipvs.IPv6
			}
		}
		s.Flags |= ipvs.FlagHashed
		r := testenv.TableEntry{Service: ipvs.ServiceExtended{Service: s}, Destinations: []ipvs.DestinationExtended{}}
		for i := len(st.dests) - 1; i >= 0; i-- {
			d := st.dests[i]
			if d.Family == 0 {
				d.Family = ipvs.IPv4
				if !d.Address.Is4() {
					d.Family = ipvs.IPv6
				}
			}
			r.Destinations = append(r.Destinations, ipvs.DestinationExtended{Destination: d})
		}
		want = append(want, r)
	}
	return want
}

func sortedReadBack(sc tableScenario) []testenv.TableEntry {
	want := sc.readBack()
	testenv.SortTable(want)
	return want
}

func TestScenarioTablesReadBack(t *testing.T) {
	for _, sc := range tableScenarios {
		t.Run(sc.name, func(t *testing.T) {
			forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
				sc.build(t, c)
				if diff := cmp.Diff(sortedReadBack(sc), testenv.ReadTable(t, c, false), cmpAddr); diff != "" {
					t.Errorf("table (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestScenarioServiceLookupAndUpdate(t *testing.T) {
	forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
		svc := ipvs.Service{Protocol: ipvs.TCP, Address: addr("192.0.2.1"), Port: 80, Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 300, Netmask: 0xffffffff}
		if err := c.CreateService(svc); err != nil {
			t.Fatalf("CreateService: %v", err)
		}
		// An update replaces everything: persistence goes, the scheduler
		// and mask change.
		upd := ipvs.Service{Protocol: ipvs.TCP, Address: addr("192.0.2.1"), Port: 80, Scheduler: "rr", Netmask: 0xffff0000}
		if err := c.UpdateService(upd); err != nil {
			t.Fatalf("UpdateService: %v", err)
		}
		got, err := c.Service(ipvs.Service{Protocol: ipvs.TCP, Address: addr("192.0.2.1"), Port: 80})
		if err != nil {
			t.Fatalf("Service: %v", err)
		}
		want := upd
		want.Family = ipvs.IPv4
		want.Flags = ipvs.FlagHashed
		if diff := cmp.Diff(ipvs.ServiceExtended{Service: want}, got, cmpAddr); diff != "" {
			t.Errorf("service (-want +got):\n%s", diff)
		}

		d := ipvs.Destination{Address: addr("192.0.2.10"), Port: 80, Forwarding: ipvs.Route, Weight: 1}
		if err := c.CreateDestination(upd, d); err != nil {
			t.Fatalf("CreateDestination: %v", err)
		}
		d2 := d
		d2.Forwarding, d2.Weight, d2.UpperThreshold, d2.LowerThreshold = ipvs.Masquerade, 9, 20, 10
		if err := c.UpdateDestination(upd, d2); err != nil {
			t.Fatalf("UpdateDestination: %v", err)
		}
		dests, err := c.Destinations(upd)
		if err != nil {
			t.Fatalf("Destinations: %v", err)
		}
		d2.Family = ipvs.IPv4
		if diff := cmp.Diff([]ipvs.DestinationExtended{{Destination: d2}}, dests, cmpAddr); diff != "" {
			t.Errorf("destinations (-want +got):\n%s", diff)
		}
		if err := c.DeleteDestination(upd, d); err != nil {
			t.Fatalf("DeleteDestination: %v", err)
		}
		if err := c.DeleteService(upd); err != nil {
			t.Fatalf("DeleteService: %v", err)
		}
		services, err := c.Services()
		if err != nil || len(services) != 0 || services == nil {
			t.Errorf("Services after delete: want empty slice, got %v, %v", services, err)
		}
	})
}

func TestScenarioTimeouts(t *testing.T) {
	forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
		got, err := c.Timeouts()
		if err != nil {
			t.Fatalf("Timeouts: %v", err)
		}
		if diff := cmp.Diff(defaultTimeouts, got); diff != "" {
			t.Errorf("default timeouts (-want +got):\n%s", diff)
		}
		// Zero leaves a timeout as it is.
		if err := c.SetTimeouts(ipvs.Timeouts{TCP: 100 * time.Second, UDP: 30 * time.Second}); err != nil {
			t.Fatalf("SetTimeouts: %v", err)
		}
		got, err = c.Timeouts()
		if err != nil {
			t.Fatalf("Timeouts: %v", err)
		}
		want := ipvs.Timeouts{TCP: 100 * time.Second, TCPFin: 120 * time.Second, UDP: 30 * time.Second}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("timeouts (-want +got):\n%s", diff)
		}
	})
}

func TestScenarioInfo(t *testing.T) {
	forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
		info, err := c.Info()
		if err != nil {
			t.Fatalf("Info: %v", err)
		}
		// Linux 6.1: IPVS 1.2.1, and a 4096-bucket table unless the
		// module's conn_tab_bits says otherwise.
		if diff := cmp.Diff(ipvs.Info{Version: 0x010201, ConnectionTableSize: 4096}, info); diff != "" {
			t.Errorf("info (-want +got):\n%s", diff)
		}
	})
}

func TestScenarioDaemons(t *testing.T) {
	forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
		daemons, err := c.Daemons()
		if err != nil || daemons == nil || len(daemons) != 0 {
			t.Fatalf("Daemons with none running: want an empty slice, got %v, %v", daemons, err)
		}
		backup := ipvs.Daemon{State: ipvs.Backup, Interface: "lo", SyncID: 6, MaxLength: 1200,
			Group: addr("ff02::1:2"), Port: 8851, TTL: 4}
		master := ipvs.Daemon{State: ipvs.Master, Interface: "lo", SyncID: 5, MaxLength: 1400,
			Group: addr("239.1.1.1"), Port: 8850, TTL: 3}
		// Backup first: the kernel still lists the master first.
		for _, d := range []ipvs.Daemon{backup, master} {
			if err := c.StartDaemon(d); err != nil {
				t.Fatalf("StartDaemon(%v): %v", d.State, err)
			}
		}
		daemons, err = c.Daemons()
		if err != nil {
			t.Fatalf("Daemons: %v", err)
		}
		if diff := cmp.Diff([]ipvs.Daemon{master, backup}, daemons, cmpAddr); diff != "" {
			t.Errorf("daemons (-want +got):\n%s", diff)
		}
		if err := c.StopDaemon(ipvs.Master); err != nil {
			t.Fatalf("StopDaemon: %v", err)
		}
		daemons, err = c.Daemons()
		if err != nil {
			t.Fatalf("Daemons: %v", err)
		}
		if diff := cmp.Diff([]ipvs.Daemon{backup}, daemons, cmpAddr); diff != "" {
			t.Errorf("daemons after stopping the master (-want +got):\n%s", diff)
		}
	})
}

func TestScenarioDaemonDefaults(t *testing.T) {
	forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
		if err := c.StartDaemon(ipvs.Daemon{State: ipvs.Master, Interface: "lo"}); err != nil {
			t.Fatalf("StartDaemon: %v", err)
		}
		daemons, err := c.Daemons()
		if err != nil {
			t.Fatalf("Daemons: %v", err)
		}
		// The kernel's defaults: group 224.0.0.81, port 8848, TTL 1; the
		// maximum length derives from the interface's MTU.
		want := []ipvs.Daemon{{State: ipvs.Master, Interface: "lo", Group: addr("224.0.0.81"), Port: 8848, TTL: 1}}
		if diff := cmp.Diff(want, daemons, cmpAddr, cmpopts.IgnoreFields(ipvs.Daemon{}, "MaxLength")); diff != "" {
			t.Errorf("daemons (-want +got):\n%s", diff)
		}
		if len(daemons) == 1 && daemons[0].MaxLength == 0 {
			t.Errorf("the kernel reported no sync maxlen")
		}
	})
}

// An errnoStep is one write and the errno the 6.1 kernel answers it with
// (0 for success).
type errnoStep struct {
	op   ipvs.Op
	want unix.Errno
}

func TestScenarioKernelErrors(t *testing.T) {
	svc := ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.1.0.1"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
	other := ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.1.0.2"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
	dst := ipvs.Destination{Address: addr("10.1.1.1"), Port: 80, Forwarding: ipvs.Masquerade, Weight: 1}
	v6dst := ipvs.Destination{Address: addr("2001:db8::1"), Port: 80, Forwarding: ipvs.Masquerade, Weight: 1}
	create := func(s ipvs.Service) ipvs.Op { return ipvs.Op{Command: ipvs.CmdNewService, Service: s} }
	withSched := func(s ipvs.Service, name string) ipvs.Service { s.Scheduler = name; return s }
	withPE := func(s ipvs.Service, name string) ipvs.Service { s.PersistenceEngine = name; return s }
	destOp := func(cmd ipvs.Command, d ipvs.Destination) ipvs.Op {
		return ipvs.Op{Command: cmd, Service: svc, Destination: d}
	}

	tests := []struct {
		name  string
		steps []errnoStep
	}{
		{"service exists", []errnoStep{{create(svc), 0}, {create(svc), unix.EEXIST}}},
		{"unknown scheduler", []errnoStep{{create(withSched(svc, "nosuch")), unix.ENOENT}}},
		{"unknown persistence engine", []errnoStep{{create(withPE(svc, "nosuch")), unix.ENOENT}}},
		{"update a missing service", []errnoStep{{ipvs.Op{Command: ipvs.CmdSetService, Service: other}, unix.ESRCH}}},
		{"delete a missing service", []errnoStep{{ipvs.Op{Command: ipvs.CmdDelService, Service: other}, unix.ESRCH}}},
		{"zero a missing service", []errnoStep{{ipvs.Op{Command: ipvs.CmdZero, Service: other}, unix.ESRCH}}},
		{"destination of a missing service", []errnoStep{{destOp(ipvs.CmdNewDestination, dst), unix.ESRCH}}},
		{"destination exists", []errnoStep{{create(svc), 0}, {destOp(ipvs.CmdNewDestination, dst), 0}, {destOp(ipvs.CmdNewDestination, dst), unix.EEXIST}}},
		{"lower threshold above upper", []errnoStep{{create(svc), 0}, {destOp(ipvs.CmdNewDestination, ipvs.Destination{Address: dst.Address, Port: 80, Weight: 1, UpperThreshold: 5, LowerThreshold: 6}), unix.ERANGE}}},
		{"lower threshold without upper", []errnoStep{{create(svc), 0}, {destOp(ipvs.CmdNewDestination, ipvs.Destination{Address: dst.Address, Port: 80, Weight: 1, LowerThreshold: 5}), unix.ERANGE}}},
		{"IPv6 server behind IPv4 service without tunnel", []errnoStep{{create(svc), 0}, {destOp(ipvs.CmdNewDestination, v6dst), unix.EINVAL}}},
		{"gue tunnel without port", []errnoStep{{create(svc), 0}, {destOp(ipvs.CmdNewDestination, ipvs.Destination{Address: dst.Address, Port: 80, Forwarding: ipvs.Tunnel, Weight: 1, TunnelType: ipvs.GUE}), unix.EINVAL}}},
		{"multicast server", []errnoStep{{create(svc), 0}, {destOp(ipvs.CmdNewDestination, ipvs.Destination{Address: addr("224.0.0.5"), Port: 80, Weight: 1}), unix.EINVAL}}},
		{"update a missing destination", []errnoStep{{create(svc), 0}, {destOp(ipvs.CmdSetDestination, dst), unix.ENOENT}}},
		{"delete a missing destination", []errnoStep{{create(svc), 0}, {destOp(ipvs.CmdDelDestination, dst), unix.ENOENT}}},
		{"delete a destination of a missing service", []errnoStep{{destOp(ipvs.CmdDelDestination, dst), unix.ESRCH}}},
		{"master runs already", []errnoStep{
			{ipvs.Op{Command: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: ipvs.Master, Interface: "lo"}}, 0},
			{ipvs.Op{Command: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: ipvs.Master, Interface: "lo"}}, unix.EEXIST},
		}},
		{"stop a backup that does not run", []errnoStep{{ipvs.Op{Command: ipvs.CmdDelDaemon, Daemon: ipvs.Daemon{State: ipvs.Backup}}, unix.ESRCH}}},
		{"daemon on a missing interface", []errnoStep{{ipvs.Op{Command: ipvs.CmdNewDaemon, Daemon: ipvs.Daemon{State: ipvs.Master, Interface: "nosuch0"}}, unix.ENODEV}}},
		{"flush an empty table", []errnoStep{{ipvs.Op{Command: ipvs.CmdFlush}, 0}}},
		{"zero everything", []errnoStep{{create(svc), 0}, {ipvs.Op{Command: ipvs.CmdZero}, 0}, {ipvs.Op{Command: ipvs.CmdZero, Service: svc}, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
				// Each step on its own, then all steps again as one batch on
				// a clean table: the answers must be the same.
				for i, step := range tt.steps {
					if got := errnoOf(t, writeOne(c, step.op)); got != step.want {
						t.Errorf("step %d (%v): want errno %d (%v), got %d (%v)", i, step.op.Command, step.want, step.want, got, got)
					}
				}
				resetTable(t, c)
				var ops []ipvs.Op
				for _, step := range tt.steps {
					ops = append(ops, step.op)
				}
				err := c.Apply(ops, func(i int, err error) bool {
					if got := errnoOf(t, err); got != tt.steps[i].want {
						t.Errorf("batched step %d (%v): want errno %d, got %d", i, ops[i].Command, tt.steps[i].want, got)
					}
					return true
				})
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
			})
		})
	}
}

func writeOne(c *ipvs.Client, op ipvs.Op) error {
	var result error
	if err := c.Apply([]ipvs.Op{op}, func(_ int, err error) bool { result = err; return true }); err != nil {
		return err
	}
	return result
}

// resetTable empties the table and stops the daemons, on either kernel.
func resetTable(t *testing.T, c *ipvs.Client) {
	t.Helper()
	if err := c.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for _, s := range []ipvs.DaemonState{ipvs.Master, ipvs.Backup} {
		if err := c.StopDaemon(s); err != nil && !errors.Is(err, unix.ESRCH) {
			t.Fatalf("StopDaemon: %v", err)
		}
	}
}

// errnoOf returns the errno in err, 0 for nil; any other error fails the
// test.
func errnoOf(t *testing.T, err error) unix.Errno {
	t.Helper()
	if err == nil {
		return 0
	}
	var errno unix.Errno
	if !errors.As(err, &errno) {
		t.Fatalf("error without an errno: %v", err)
	}
	var e *ipvs.Error
	if !errors.As(err, &e) {
		t.Errorf("error is not an *ipvs.Error: %v", err)
	}
	return errno
}

func TestScenarioMissingServiceLookup(t *testing.T) {
	forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
		key := ipvs.Service{Protocol: ipvs.UDP, Address: addr("10.9.9.9"), Port: 9}
		_, err := c.Service(key)
		if !errors.Is(err, os.ErrNotExist) || errnoOf(t, err) != unix.ESRCH {
			t.Errorf("Service of a missing service: want ESRCH answering os.ErrNotExist, got %v", err)
		}
		// A destination dump of a missing service is empty, not an error.
		dests, err := c.Destinations(key)
		if err != nil || dests == nil || len(dests) != 0 {
			t.Errorf("Destinations of a missing service: want an empty slice, got %v, %v", dests, err)
		}
	})
}

func TestScenarioLargeTableStreams(t *testing.T) {
	forEachKernel(t, func(t *testing.T, c *ipvs.Client) {
		// Enough services that the dump spans many chunks, written in
		// batches.
		const n = 2000
		var ops []ipvs.Op
		for i := 0; i < n; i++ {
			s := ipvs.Service{Protocol: ipvs.TCP, Address: netip.AddrFrom4([4]byte{10, 20, byte(i >> 8), byte(i)}), Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
			ops = append(ops, ipvs.Op{Command: ipvs.CmdNewService, Service: s},
				ipvs.Op{Command: ipvs.CmdNewDestination, Service: s, Destination: ipvs.Destination{Address: addr("10.30.0.1"), Port: 80, Weight: 1}})
		}
		failed := 0
		if err := c.Apply(ops, func(i int, err error) bool {
			if err != nil {
				failed++
				t.Errorf("op %d: %v", i, err)
			}
			return failed < 5
		}); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		seen := map[netip.Addr]int{}
		walked := 0
		if err := c.WalkServices(func(s ipvs.ServiceExtended) error {
			seen[s.Address]++
			walked++
			return nil
		}); err != nil {
			t.Fatalf("WalkServices: %v", err)
		}
		if walked != n || len(seen) != n {
			t.Errorf("walked %d services, %d distinct; want %d", walked, len(seen), n)
		}
		// Stopping a walk early leaves the connection usable.
		stop := errors.New("stop")
		if err := c.WalkServices(func(ipvs.ServiceExtended) error { return stop }); err != stop {
			t.Errorf("WalkServices: want the callback's error, got %v", err)
		}
		if _, err := c.Info(); err != nil {
			t.Errorf("Info after an abandoned walk: %v", err)
		}
	})
}
