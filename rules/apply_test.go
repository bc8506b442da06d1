package rules_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/lvsgo/ipvsadm/rules"
)

// The tables of the fault tests: before is live, after is the input. Diff
// of the two is 100 writes: 60 creations, 20 edits and 20 removals.
var faultBefore, faultAfter = faultTables()

func faultTables() (before, after string) {
	var b, a strings.Builder
	// Services 1-10 are kept; in each, server 1 is kept, server 2 gets
	// another weight, server 3 is removed, server 4 is new.
	for i := 1; i <= 10; i++ {
		svc := fmt.Sprintf("-t 10.0.0.%d:80", i)
		fmt.Fprintf(&b, "-A %s -s rr\n", svc)
		fmt.Fprintf(&a, "-A %s -s rr\n", svc)
		for s := 1; s <= 3; s++ {
			fmt.Fprintf(&b, "-a %s -r 10.1.%d.%d:80 -m -w 1\n", svc, i, s)
		}
		fmt.Fprintf(&a, "-a %s -r 10.1.%d.1:80 -m -w 1\n", svc, i)
		fmt.Fprintf(&a, "-a %s -r 10.1.%d.2:80 -m -w 7\n", svc, i)
		fmt.Fprintf(&a, "-a %s -r 10.1.%d.4:80 -m -w 1\n", svc, i)
	}
	// Services 11-20 change their scheduler.
	for i := 11; i <= 20; i++ {
		fmt.Fprintf(&b, "-A -u 10.0.0.%d:53 -s rr\n", i)
		fmt.Fprintf(&a, "-A -u 10.0.0.%d:53 -s wlc -p 30\n", i)
	}
	// Services 21-30 are new, each with four servers.
	for i := 21; i <= 30; i++ {
		fmt.Fprintf(&a, "-A -f %d -s sh\n", i)
		fmt.Fprintf(&a, "-a -f %d -r 10.2.0.%d:0 -g -w 1\n", i, i)
		fmt.Fprintf(&a, "-a -f %d -r 10.2.1.%d:0 -i -w 2 --tun-type gre --tun-csum\n", i, i)
		fmt.Fprintf(&a, "-a -f %d -r [2001:db8:1::%d]:0 -i -w 0 --tun-type gue --tun-port 6080 --tun-remcsum\n", i, i)
		fmt.Fprintf(&a, "-a -f %d -r 10.2.2.%d:0 -g -w 3 -x 100 -y 50\n", i, i)
	}
	// Services 31-40 go.
	for i := 31; i <= 40; i++ {
		fmt.Fprintf(&b, "-A -t [2001:db8::%d]:443 -s lc\n", i)
	}
	return b.String(), a.String()
}

// setCounters gives every service and destination that the plan of the
// fault tests keeps (services 1-20, servers 1 and 2) counters of their own,
// so that a rollback that removed and made them again would show.
func setCounters(t *testing.T, k *ipvstest.Kernel) {
	t.Helper()
	n := uint64(0)
	next := func() ipvstest.Stats {
		n++
		return ipvstest.Stats{Conns: n, InPkts: 10 * n, OutPkts: 9 * n, InBytes: 1000 * n, OutBytes: 900 * n}
	}
	for i := 1; i <= 10; i++ {
		svc := ipvstest.ServiceKey{Protocol: syscall.IPPROTO_TCP, Addr: netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", i)), Port: 80}
		if err := k.SetServiceStats(svc, next()); err != nil {
			t.Fatal(err)
		}
		for s := 1; s <= 2; s++ {
			dst := ipvstest.DestinationKey{Addr: netip.MustParseAddr(fmt.Sprintf("10.1.%d.%d", i, s)), Port: 80}
			if err := k.SetDestinationStats(svc, dst, next()); err != nil {
				t.Fatal(err)
			}
			if err := k.SetConnCounts(svc, dst, uint32(n), uint32(2*n), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 11; i <= 20; i++ {
		svc := ipvstest.ServiceKey{Protocol: syscall.IPPROTO_UDP, Addr: netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", i)), Port: 53}
		if err := k.SetServiceStats(svc, next()); err != nil {
			t.Fatal(err)
		}
	}
}

// failWrite makes the kernel refuse its n-th write from now on, counting
// from 1, with errno; it returns a func that reports whether it has.
func failWrite(k *ipvstest.Kernel, n int, errno syscall.Errno) func() bool {
	writes, failed := 0, false
	k.SetFault(func(r ipvstest.Request) error {
		if r.Dump || r.Command == uint8(ipvs.CmdGetService) || r.Command == uint8(ipvs.CmdGetInfo) ||
			r.Command == uint8(ipvs.CmdGetConfig) || r.Command == uint8(ipvs.CmdGetDaemon) {
			return nil
		}
		writes++
		if writes == n {
			failed = true
			return errno
		}
		return nil
	})
	return func() bool { return failed }
}

func TestDiffApplyReachesTheInput(t *testing.T) {
	k, c := newTable(t, faultBefore)
	setCounters(t, k)
	kept := listing(t, k, "-t", "10.0.0.1:80")
	from, err := rules.Read(c)
	if err != nil {
		t.Fatal(err)
	}
	want := mustParse(t, faultAfter)
	plan := rules.Diff(from, want)
	if len(plan.Steps) != 100 {
		t.Fatalf("Diff has %d steps, want 100", len(plan.Steps))
	}
	writes := k.Writes()
	if err := plan.Apply(c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := k.Writes() - writes; got != 100 {
		t.Errorf("Apply made %d writes, want 100", got)
	}
	if diff := cmp.Diff(format(t, want), read(t, c)); diff != "" {
		t.Errorf("table after Apply (-want +got):\n%s", diff)
	}
	// Server 1 of service 1 was left alone, server 2 was edited in place:
	// both keep their counters and connections.
	got := listing(t, k, "-t", "10.0.0.1:80")
	for _, server := range []string{"10.1.1.1:80", "10.1.1.2:80"} {
		if line := lineWith(kept, server); line != lineWith(got, server) {
			t.Errorf("%s: counters were %q, are %q", server, line, lineWith(got, server))
		}
	}

	// Once there, the same input is no write at all.
	from, err = rules.Read(c)
	if err != nil {
		t.Fatal(err)
	}
	writes = k.Writes()
	if err := rules.Diff(from, want).Apply(c); err != nil {
		t.Fatal(err)
	}
	if got := k.Writes() - writes; got != 0 {
		t.Errorf("reapplying made %d writes, want 0", got)
	}
}

func readSet(t *testing.T, c *ipvs.Client) *rules.Set {
	t.Helper()
	set, err := rules.Read(c)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// serverOrder is the servers of each service in the set's order.
func serverOrder(t *testing.T, set *rules.Set) map[string][]string {
	order := make(map[string][]string)
	for _, s := range set.Services {
		key := string(compat.AppendRule(nil, ipvs.Op{Command: ipvs.CmdDelService, Service: s.Service}))
		order[key] = []string{}
		for _, d := range s.Destinations {
			order[key] = append(order[key], d.Address.String()+":"+fmt.Sprint(d.Port))
		}
	}
	return order
}

func lineWith(listing, s string) string {
	for _, line := range strings.Split(listing, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

// TestApplyRollsBackEveryFault fails each write of a 100-write plan in turn:
// after each, the table is as it was, down to the counters of all that the
// plan keeps.
func TestApplyRollsBackEveryFault(t *testing.T) {
	plans := []struct {
		name     string
		counters bool // the table has counters to keep
		// destOrder: the servers of each service are in the kernel's
		// order again (Diff puts back a removed server at the head).
		destOrder bool
		plan      func(from, to *rules.Set) *rules.Plan
		// listing options that must show no change: without --nosort,
		// the order of the kernel's lists is not compared.
		listings [][]string
	}{
		{"diff", true, false, rules.Diff, [][]string{nil}},
		// Replace removes everything first, so there are no counters to
		// keep. (The order of services in a dump is the kernel's hash
		// table's, which ipvstest does not emulate; the VM tests check
		// it.)
		{"replace", false, true, rules.Replace, [][]string{nil}},
	}
	for _, p := range plans {
		t.Run(p.name, func(t *testing.T) {
			for k := 1; ; k++ {
				kernel, c := newTable(t, faultBefore)
				if p.counters {
					setCounters(t, kernel)
				}
				var before []string
				for _, opts := range p.listings {
					before = append(before, listing(t, kernel, opts...))
				}
				from, err := rules.Read(c)
				if err != nil {
					t.Fatal(err)
				}
				plan := p.plan(from, mustParse(t, faultAfter))
				if k == 1 && len(plan.Steps) < 100 {
					t.Fatalf("the plan has %d writes, want 100 or more", len(plan.Steps))
				}
				if k > len(plan.Steps) {
					break
				}
				failed := failWrite(kernel, k, syscall.ENOMEM)
				err = plan.Apply(c)
				kernel.SetFault(nil)
				var rerr *rules.Error
				if !errors.As(err, &rerr) || !failed() {
					t.Fatalf("write %d: Apply: %v, want the write refused", k, err)
				}
				step := plan.Steps[k-1]
				want := rules.Error{
					Line:    step.Line,
					Text:    string(compat.AppendRule(nil, step.Op)),
					Message: "Memory allocation problem",
					Status:  255,
				}
				if rerr.Rollback != nil {
					t.Errorf("write %d: rollback: %v", k, rerr.Rollback)
				}
				rerr.Err, rerr.Rollback = nil, nil
				if diff := cmp.Diff(want, *rerr); diff != "" {
					t.Errorf("write %d: error (-want +got):\n%s", k, diff)
				}
				for i, opts := range p.listings {
					if diff := cmp.Diff(before[i], listing(t, kernel, opts...)); diff != "" {
						t.Fatalf("write %d refused: ipvsadm -Ln --stats --exact %v (-before +after):\n%s", k, opts, diff)
					}
				}
				if p.destOrder {
					if diff := cmp.Diff(serverOrder(t, from), serverOrder(t, readSet(t, c))); diff != "" {
						t.Fatalf("write %d refused: servers in the kernel's order (-before +after):\n%s", k, diff)
					}
				}
				c.Close()
			}
		})
	}
}

// TestApplyRollsBackAcrossWindows: a plan of many windows of writes is one
// transaction: a refusal in a late window undoes the writes of all the
// earlier ones, and the writes of a window already on its way when the
// refusal was heard; each refusal is reported at its own line.
func TestApplyRollsBackAcrossWindows(t *testing.T) {
	var input strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&input, "-A -t 10.%d.%d.1:80 -s rr\n-a -t 10.%d.%d.1:80 -r 10.200.0.1:80 -m\n", i/256, i%256, i/256, i%256)
	}
	want := mustParse(t, input.String())
	for _, k := range []int{4095, 4096, 4097, 4100, 6000} {
		kernel, c := newTable(t, "-A -f 1 -s rr\n")
		before := listing(t, kernel)
		from := readSet(t, c)
		plan := rules.Replace(from, want)
		failed := failWrite(kernel, k, syscall.ENOMEM)
		err := plan.Apply(c)
		kernel.SetFault(nil)
		var rerr *rules.Error
		if !errors.As(err, &rerr) || !failed() {
			t.Fatalf("write %d: Apply: %v, want the write refused", k, err)
		}
		if want := plan.Steps[k-1].Line; rerr.Line != want || rerr.Rollback != nil {
			t.Errorf("write %d: error at line %d (rollback %v), want line %d and a whole rollback", k, rerr.Line, rerr.Rollback, want)
		}
		if diff := cmp.Diff(before, listing(t, kernel)); diff != "" {
			t.Errorf("write %d refused: the table changed (-before +after):\n%s", k, diff)
		}
	}
}

// TestUndoNamesEachFailedWrite: a rollback goes on past a write it cannot
// send and one the kernel refuses, and names each by its own rule.
func TestUndoNamesEachFailedWrite(t *testing.T) {
	_, c := newTable(t, "-A -t 10.0.0.1:80 -s rr\n")
	service := func(addr, scheduler string) ipvs.Op {
		return ipvs.Op{Command: ipvs.CmdNewService, Service: ipvs.Service{
			Family: ipvs.IPv4, Protocol: ipvs.TCP, Address: netip.MustParseAddr(addr), Port: 80, Scheduler: scheduler, Netmask: 0xffffffff,
		}}
	}
	err := rules.UndoAll(c, []ipvs.Op{
		service("10.0.0.2", "rr"),
		service("10.0.0.3", "a-scheduler-name-too-long"), // not sent
		service("10.0.0.1", "rr"),                        // there already
		service("10.0.0.4", "wlc"),
	})
	var got []string // the service of each failure's rule
	for _, line := range strings.Split(fmt.Sprint(err), "\n") {
		got = append(got, strings.Fields(line)[2])
	}
	want := []string{"10.0.0.3:80", "10.0.0.1:80"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the rollback's failures (-want +got):\n%s", diff)
	}
	if !errors.Is(err, syscall.EEXIST) || !errors.Is(err, ipvs.ErrInvalid) {
		t.Errorf("UndoAll: %v, want EEXIST and ErrInvalid", err)
	}
	if got, want := read(t, c), "-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.2:80 -s rr\n-A -t 10.0.0.4:80 -s wlc\n"; got != want {
		t.Errorf("table after the rollback:\n%s\nwant:\n%s", got, want)
	}
}
