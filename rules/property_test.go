package rules_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/lvsgo/ipvsadm/rules"
)

// The property of Diff and Plan.Apply, on random pairs of rule sets A and
// B: applied to a table holding A, Diff(A, B) makes it hold exactly B; with
// the kernel refusing any one write of the plan, the table holds exactly A
// again, counters included.

// propertyPairs is how many random pairs TestDiffApplyProperty tries, and
// propertySeed the seed of their generator: a failure names its pair, and
// the same seed makes the same pairs.
const (
	propertyPairs = 200
	propertySeed  = 6
)

// A propKey is a virtual service a random set may have: its option on a
// command line, and what the options of the service and its destinations
// depend on.
type propKey struct {
	option string
	ipv6   bool
	udp    bool // -o is allowed
	mark   bool
	port   string // the service's port, which -g and -i force on a destination
}

// propKeys are few, so that random sets share services.
var propKeys = []propKey{
	{option: "-t 10.0.0.1:80", port: "80"},
	{option: "-t 10.0.0.1:443", port: "443"},
	{option: "-u 10.0.0.1:53", udp: true, port: "53"},
	{option: "--sctp-service 10.0.0.2:9999", port: "9999"},
	{option: "-t [2001:db8::1]:80", ipv6: true, port: "80"},
	{option: "-u [2001:db8::1]:53", ipv6: true, udp: true, port: "53"},
	{option: "-f 1", mark: true, udp: true},
	{option: "-f 2", mark: true, udp: true},
	{option: "-f 1 -6", ipv6: true, mark: true, udp: true},
}

// propAddrs are the addresses of destinations, by family; few, so that
// random sets share destinations.
var propAddrs = map[bool][]string{
	false: {"10.1.0.1", "10.1.0.2", "10.1.0.3"},
	true:  {"[2001:db8:1::1]", "[2001:db8:1::2]"},
}

// A propService is a service of a random set: its -A options after the
// service, and its destinations.
type propService struct {
	key                                         propKey
	sched, persistence, netmask, ops, flags, pe string
	dests                                       []propDest
}

// A propDest is a destination: its address, and the options after it.
type propDest struct {
	addr, port, fwd, weight, thresholds string
	// tunType, tunPort and tunCsum are the tunnel options, which
	// restoreText writes only as far as the method and type allow.
	tunType, tunPort, tunCsum string
}

func pick[T any](r *rand.Rand, choices ...T) T { return choices[r.IntN(len(choices))] }

// A serviceOption sets one option of a service at random, often to none.
type serviceOption func(r *rand.Rand, s *propService)

// serviceOptions set every option: a scheduler, and maybe persistence (a
// timeout, a netmask), one-packet scheduling, scheduler flags and a
// persistence engine. Those after the scheduler depend on it.
var serviceOptions = []serviceOption{
	func(r *rand.Rand, s *propService) {
		s.sched = pick(r, "rr", "wrr", "lc", "wlc", "sh", "mh", "sed", "nq")
	},
	func(r *rand.Rand, s *propService) {
		s.persistence = pick(r, "", "", " -p", " -p 1", " -p 60", " -p 2678400")
	},
	func(r *rand.Rand, s *propService) {
		s.netmask = ""
		switch {
		case r.IntN(2) == 0:
		case s.key.ipv6:
			s.netmask = " -M " + pick(r, "64", "96", "127")
		default:
			s.netmask = " -M " + pick(r, "255.255.255.0", "255.255.0.0", "0.0.0.24")
		}
	},
	func(r *rand.Rand, s *propService) {
		s.ops = ""
		if s.key.udp && r.IntN(3) == 0 {
			s.ops = " -o"
		}
	},
	func(r *rand.Rand, s *propService) {
		s.flags = ""
		if r.IntN(3) != 0 {
			return
		}
		switch s.sched {
		case "sh":
			s.flags = " -b " + pick(r, "sh-port", "sh-fallback", "sh-fallback,sh-port", "flag-3")
		case "mh":
			s.flags = " -b " + pick(r, "mh-port", "mh-fallback,mh-port")
		default:
			s.flags = " -b " + pick(r, "flag-1", "flag-2,flag-3")
		}
	},
	func(r *rand.Rand, s *propService) { s.pe = pick(r, "", "", "", " --pe sip") },
}

// A destOption sets one option of a destination at random.
type destOption func(r *rand.Rand, k propKey, d *propDest)

// destOptions set every option of a destination: a forwarding method (a
// tunnel when the families differ) and a port, a weight, maybe thresholds,
// a tunnel type, port and checksum option.
var destOptions = []destOption{
	func(r *rand.Rand, k propKey, d *propDest) {
		d.fwd = pick(r, "-m", "-g", "-i")
		if strings.HasPrefix(d.addr, "[") != k.ipv6 {
			d.fwd = "-i"
		}
		d.port = pick(r, "80", "8080")
		if !k.mark && d.fwd != "-m" {
			d.port = k.port // -g and -i force it anyway
		}
	},
	func(r *rand.Rand, k propKey, d *propDest) { d.weight = fmt.Sprint(r.IntN(6)) },
	func(r *rand.Rand, k propKey, d *propDest) {
		// The kernel refuses a lower threshold above the upper.
		d.thresholds = pick(r, "", "", " -x 100", " -x 100 -y 10", " -x 200 -y 10", " -x 50 -y 50")
	},
	func(r *rand.Rand, k propKey, d *propDest) { d.tunType = pick(r, "", "ipip", "gue", "gre") },
	func(r *rand.Rand, k propKey, d *propDest) { d.tunPort = pick(r, "6080", "5555") },
	func(r *rand.Rand, k propKey, d *propDest) {
		d.tunCsum = pick(r, "", "--tun-nocsum", "--tun-csum", "--tun-remcsum")
	},
}

// tunnelOptions are the destination's tunnel options that its method and
// tunnel type allow: none but with -i, a type, for gue a port and a
// checksum option, for gre a checksum option but --tun-remcsum.
func (d *propDest) tunnelOptions() string {
	if d.fwd != "-i" || d.tunType == "" {
		return ""
	}
	o := " --tun-type " + d.tunType
	switch {
	case d.tunType == "gue":
		o += " --tun-port " + d.tunPort
	case d.tunType != "gre" || d.tunCsum == "--tun-remcsum":
		return o
	}
	if d.tunCsum != "" {
		o += " " + d.tunCsum
	}
	return o
}

// randomService returns a service k with every option at random, and up
// to n destinations.
func randomService(r *rand.Rand, k propKey, n int) propService {
	s := propService{key: k}
	for _, set := range serviceOptions {
		set(r, &s)
	}
	s.dests = randomDests(r, k, n, nil)
	return s
}

// randomDests returns up to n destinations of a service k, every option at
// random, at addresses other than those of have.
func randomDests(r *rand.Rand, k propKey, n int, have []propDest) []propDest {
	var addrs []string
	for _, ipv6 := range []bool{k.ipv6, !k.ipv6} {
		for _, a := range propAddrs[ipv6] {
			if !slices.ContainsFunc(have, func(d propDest) bool { return d.addr == a }) {
				addrs = append(addrs, a)
			}
		}
	}
	r.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	var dests []propDest
	for _, a := range addrs[:min(n, len(addrs))] {
		d := propDest{addr: a}
		for _, set := range destOptions {
			set(r, k, &d)
		}
		dests = append(dests, d)
	}
	return dests
}

// randomSet returns up to five services, each with up to four destinations.
func randomSet(r *rand.Rand) []propService {
	keys := slices.Clone(propKeys)
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	var set []propService
	for _, k := range keys[:r.IntN(6)] {
		set = append(set, randomService(r, k, r.IntN(5)))
	}
	return set
}

// mutate returns a set close to a: some services and destinations gone,
// some with one option or all set anew, some new; in another order.
func mutate(r *rand.Rand, a []propService) []propService {
	var b []propService
	for _, s := range a {
		switch r.IntN(6) {
		case 0:
			continue
		case 1:
			pick(r, serviceOptions...)(r, &s)
			if strings.Contains(s.flags, "sh-") && s.sched != "sh" || strings.Contains(s.flags, "mh-") && s.sched != "mh" {
				s.flags = "" // flags of another scheduler
			}
		case 2:
			for _, set := range serviceOptions {
				set(r, &s)
			}
		}
		var dests []propDest
		for _, d := range s.dests {
			switch r.IntN(5) {
			case 0:
				continue
			case 1:
				pick(r, destOptions...)(r, s.key, &d)
			case 2:
				for _, set := range destOptions {
					set(r, s.key, &d)
				}
			}
			dests = append(dests, d)
		}
		s.dests = append(dests, randomDests(r, s.key, r.IntN(2), dests)...)
		b = append(b, s)
	}
	for _, k := range propKeys {
		if r.IntN(6) == 0 && !slices.ContainsFunc(b, func(s propService) bool { return s.key == k }) {
			b = append(b, randomService(r, k, r.IntN(4)))
		}
	}
	r.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	return b
}

// restoreText is the set as restore input.
func restoreText(set []propService) string {
	var b strings.Builder
	for _, s := range set {
		fmt.Fprintf(&b, "-A %s -s %s%s%s%s%s%s\n", s.key.option, s.sched, s.persistence, s.netmask, s.ops, s.flags, s.pe)
		for _, d := range s.dests {
			fmt.Fprintf(&b, "-a %s -r %s:%s %s -w %s%s%s\n", s.key.option, d.addr, d.port, d.fwd, d.weight, d.thresholds, d.tunnelOptions())
		}
	}
	return b.String()
}

// settings is the set as the kernel holds it: without line numbers, in
// canonical order, and with the flag "hashed" the kernel sets on every
// service.
func settings(set *rules.Set) *rules.Set {
	c := canonical(set)
	for i := range c.Services {
		c.Services[i].Flags |= ipvs.FlagHashed
	}
	return c
}

// setKeptCounters gives the services and destinations that both a and b
// have counters and connections of their own: Diff keeps them (it edits
// them in place), and so must the undoing of a refused plan. What it
// removes and puts back starts from zero, as the kernel cannot set counters.
func setKeptCounters(t *testing.T, k *ipvstest.Kernel, a, b *rules.Set) {
	t.Helper()
	n := uint64(0)
	next := func() ipvstest.Stats {
		n++
		return ipvstest.Stats{Conns: n, InPkts: 10 * n, OutPkts: 9 * n, InBytes: 1000 * n, OutBytes: 900 * n, CPS: n}
	}
	for _, s := range a.Services {
		i := slices.IndexFunc(b.Services, func(x rules.Service) bool { return x.Service.String() == s.Service.String() })
		if i < 0 {
			continue
		}
		key := ipvstest.ServiceKey{AF: uint16(s.Family), Protocol: uint16(s.Protocol), Addr: s.Address, Port: s.Port, FWMark: s.FirewallMark}
		if s.FirewallMark != 0 {
			key.Protocol, key.Addr = syscall.IPPROTO_TCP, netip.Addr{}
		}
		if err := k.SetServiceStats(key, next()); err != nil {
			t.Fatalf("%v: %v", s.Service, err)
		}
		for _, d := range s.Destinations {
			if !slices.ContainsFunc(b.Services[i].Destinations, func(x rules.Destination) bool {
				return x.Address == d.Address && x.Port == d.Port
			}) {
				continue
			}
			dst := ipvstest.DestinationKey{AF: uint16(d.Family), Addr: d.Address, Port: d.Port}
			if err := k.SetDestinationStats(key, dst, next()); err != nil {
				t.Fatalf("%v %v: %v", s.Service, d.Destination, err)
			}
			if err := k.SetConnCounts(key, dst, uint32(n), uint32(2*n), uint32(3*n)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestDiffApplyProperty: for random rule sets A and B (IPv4, IPv6 and
// firewall-mark services of every protocol, schedulers, persistence,
// netmasks, flags; destinations of every forwarding method, weights,
// thresholds, tunnels), applying Diff(A, B) to a table holding A leaves it
// holding exactly B, and a second Diff is empty; and with the kernel
// refusing write k, for every k of the plan, the table is exactly A again,
// counters and connections included.
func TestDiffApplyProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(propertySeed, 0))
	faults := 0
	commands := make(map[ipvs.Command]int)
	for pair := range propertyPairs {
		genA := randomSet(r)
		genB := randomSet(r)
		if r.IntN(3) != 0 {
			genB = mutate(r, genA)
		}
		textA, textB := restoreText(genA), restoreText(genB)
		a, b := mustParse(t, textA), mustParse(t, textB)
		where := fmt.Sprintf("pair %d, A:\n%s\nB:\n%s", pair, textA, textB)

		kernel, c := newTable(t, textA)
		setKeptCounters(t, kernel, a, b)
		before := testenv.ReadTable(t, c, true)
		from := readSet(t, c)
		plan := rules.Diff(from, b)
		for _, st := range plan.Steps {
			commands[st.Op.Command]++
		}
		if err := plan.Apply(c); err != nil {
			t.Fatalf("%s\nApply: %v", where, err)
		}
		if diff := gocmp.Diff(settings(b), settings(readSet(t, c)), equateAddr, equateEmpty); diff != "" {
			t.Fatalf("%s\nthe table after Diff(A, B) is not B (-want +got):\n%s", where, diff)
		}
		if again := rules.Diff(readSet(t, c), b); len(again.Steps) != 0 {
			t.Fatalf("%s\nDiff(B, B) is %d writes, want none: %v", where, len(again.Steps), again.Writes())
		}

		for k := 1; k <= len(plan.Steps); k++ {
			faults++
			kernel, c := newTable(t, textA)
			setKeptCounters(t, kernel, a, b)
			failed := failWrite(kernel, k, syscall.ENOMEM)
			err := rules.Diff(readSet(t, c), b).Apply(c)
			kernel.SetFault(nil)
			var rerr *rules.Error
			switch {
			case !errors.As(err, &rerr) || !failed():
				t.Fatalf("%s\nwrite %d of %d refused: Apply: %v, want the write's error", where, k, len(plan.Steps), err)
			case rerr.Rollback != nil:
				t.Fatalf("%s\nwrite %d of %d refused: rolling back: %v", where, k, len(plan.Steps), rerr.Rollback)
			}
			if diff := gocmp.Diff(before, testenv.ReadTable(t, c, true), equateAddr); diff != "" {
				t.Fatalf("%s\nwrite %d of %d (%v) refused: the table is not A again (-before +after):\n%s",
					where, k, len(plan.Steps), plan.Steps[k-1].Op.Command, diff)
			}
			c.Close()
		}
		c.Close()
	}
	t.Logf("%d pairs; writes planned: %v; %d faults injected", propertyPairs, commands, faults)
}
