package compat

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// serviceNames lists the table's services as ipvs.Service.String does.
func serviceNames(table []serviceTable) []string {
	var names []string
	for _, t := range table {
		names = append(names, t.service.String())
	}
	return names
}

func tcpService(a string, port uint16) serviceTable {
	return serviceTable{service: ipvs.ServiceExtended{Service: ipvs.Service{
		Family: ipvs.IPv4, Protocol: ipvs.TCP, Address: netip.MustParseAddr(a), Port: port}}}
}

func TestSortServices(t *testing.T) {
	fwm := func(mark uint32, af ipvs.Family) serviceTable {
		return serviceTable{service: ipvs.ServiceExtended{Service: ipvs.Service{Family: af, FirewallMark: mark}}}
	}
	svc := func(p ipvs.Protocol, a string, port uint16) serviceTable {
		s := tcpService(a, port)
		s.service.Protocol = p
		if s.service.Address.Is6() {
			s.service.Family = ipvs.IPv6
		}
		return s
	}
	tests := []struct {
		name  string
		table []serviceTable
		want  []string
	}{
		{
			// §5.7 of the reference, observed from ipvsadm 1.31: the
			// wrapped differences are no order, and glibc's merges make
			// this of them.
			name: "wrapped address differences",
			table: []serviceTable{
				tcpService("10.0.0.1", 80), tcpService("192.168.0.1", 80), tcpService("172.16.0.1", 80),
				tcpService("127.0.0.1", 80), tcpService("200.0.0.1", 80), tcpService("1.0.0.1", 80),
			},
			want: []string{"TCP 127.0.0.1:80", "TCP 172.16.0.1:80", "TCP 192.168.0.1:80",
				"TCP 200.0.0.1:80", "TCP 1.0.0.1:80", "TCP 10.0.0.1:80"},
		},
		{
			// Marks above 2^31 compare below 0, the mark of address
			// services; they are no order among themselves either.
			name: "marks above 2^31 before address services",
			table: []serviceTable{
				tcpService("10.0.0.1", 80), fwm(0xffffffff, ipvs.IPv4), fwm(5, ipvs.IPv4), fwm(0x80000001, ipvs.IPv4),
			},
			want: []string{"FWM 4294967295", "TCP 10.0.0.1:80", "FWM 5", "FWM 2147483649"},
		},
		{
			name: "IPv4 before IPv6, TCP before UDP before SCTP, then address and port",
			table: []serviceTable{
				svc(ipvs.SCTP, "10.0.0.1", 80), svc(ipvs.TCP, "2001:db8::1", 80), svc(ipvs.UDP, "10.0.0.1", 80),
				svc(ipvs.TCP, "10.0.0.1", 443), svc(ipvs.TCP, "10.0.0.1", 80), fwm(7, ipvs.IPv6), fwm(7, ipvs.IPv4),
				svc(ipvs.TCP, "2001:db8::1:0", 80), svc(ipvs.TCP, "2001:db8::", 80), svc(ipvs.TCP, "2001:db8::1", 22),
			},
			want: []string{"TCP 10.0.0.1:80", "TCP 10.0.0.1:443", "UDP 10.0.0.1:80", "SCTP 10.0.0.1:80",
				"TCP [2001:db8::]:80", "TCP [2001:db8::1]:22", "TCP [2001:db8::1]:80", "TCP [2001:db8::1:0]:80",
				"FWM 7", "FWM 7 IPv6"},
		},
		{
			name:  "ports by plain difference",
			table: []serviceTable{tcpService("10.0.0.1", 65535), tcpService("10.0.0.1", 0), tcpService("10.0.0.1", 32768)},
			want:  []string{"TCP 10.0.0.1:0", "TCP 10.0.0.1:32768", "TCP 10.0.0.1:65535"},
		},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sortServices(tt.table)
			if diff := cmp.Diff(tt.want, serviceNames(tt.table)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSortDestinations(t *testing.T) {
	dest := func(a string, port uint16) ipvs.DestinationExtended {
		return ipvs.DestinationExtended{Destination: ipvs.Destination{Address: netip.MustParseAddr(a), Port: port}}
	}
	tests := []struct {
		name  string
		af    ipvs.Family
		dests []ipvs.DestinationExtended
		want  []string
	}{
		{
			name: "wrapped address differences",
			af:   ipvs.IPv4,
			dests: []ipvs.DestinationExtended{dest("10.0.0.1", 80), dest("192.168.0.1", 80), dest("172.16.0.1", 80),
				dest("127.0.0.1", 80), dest("200.0.0.1", 80), dest("1.0.0.1", 80)},
			want: []string{"127.0.0.1:80", "172.16.0.1:80", "192.168.0.1:80", "200.0.0.1:80", "1.0.0.1:80", "10.0.0.1:80"},
		},
		{
			// The sample of §10.2: the IPv4 tunnel destination of an IPv6
			// service comes first, by the first word alone.
			name:  "mixed families",
			af:    ipvs.IPv6,
			dests: []ipvs.DestinationExtended{dest("2001:db8::11", 8080), dest("192.0.2.11", 80)},
			want:  []string{"192.0.2.11:80", "[2001:db8::11]:8080"},
		},
		{
			// 32.1.13.184 is the first word of 2001:db8::. Read as IPv6,
			// the family of the first entry, 2001:db8::1 is greater by
			// its last word (TestCompareDestinationsFamily has the other
			// way round, which compares equal).
			name:  "the first entry's family decides",
			af:    ipvs.IPv6,
			dests: []ipvs.DestinationExtended{dest("2001:db8::1", 80), dest("32.1.13.184", 80)},
			want:  []string{"32.1.13.184:80", "[2001:db8::1]:80"},
		},
		{
			name:  "ports",
			af:    ipvs.IPv4,
			dests: []ipvs.DestinationExtended{dest("10.0.0.1", 8080), dest("10.0.0.1", 80), dest("10.0.0.1", 0)},
			want:  []string{"10.0.0.1:0", "10.0.0.1:80", "10.0.0.1:8080"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			new(destinationSorter).sort(tt.dests, tt.af)
			var got []string
			for _, d := range tt.dests {
				got = append(got, d.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompareDestinationsFamily checks the comparator itself: the first
// argument's family decides how many words are read.
func TestCompareDestinationsFamily(t *testing.T) {
	v6 := destinationKey{af: uint16(ipvs.IPv6), addr: inetAddrOf(netip.MustParseAddr("2001:db8::1")), port: 80}
	v4 := destinationKey{af: uint16(ipvs.IPv4), addr: inetAddrOf(netip.MustParseAddr("32.1.13.184")), port: 80}
	if got := compareDestinations(&v4, &v6); got != 0 {
		t.Errorf("IPv4 first: compare = %d, want 0 (one word, equal ports)", got)
	}
	if got := compareDestinations(&v6, &v4); got <= 0 {
		t.Errorf("IPv6 first: compare = %d, want > 0", got)
	}
}

// TestMergeSortIsGlibcs checks the merge sort against the cases that tell
// merge orders apart: it must be stable, and with a comparator that is no
// order it must make glibc's merges, top-down with the smaller half first.
func TestMergeSortIsGlibcs(t *testing.T) {
	type item struct{ Key, Seq int }
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 50 {
		items := make([]item, n)
		for i := range items {
			items[i] = item{r.IntN(5), i}
		}
		got := slices.Clone(items)
		mergeSort(got, make([]item, n), func(a, b *item) int { return a.Key - b.Key })
		want := slices.Clone(items)
		slices.SortStableFunc(want, func(a, b item) int { return a.Key - b.Key })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("n=%d: not the stable order (-want +got):\n%s", n, diff)
		}
	}
	// "Rock, paper, scissors": a comes before b if b is a+1 (mod 3), after
	// it otherwise. [2 1 0] splits into [2] and [1 0]; [1 0] merges to
	// [0 1] (1 after 0); then 2 before 0 gives [2 0 1]. Results checked
	// against glibc 2.36's qsort.
	beats := func(a, b *int) int {
		switch {
		case *a == *b:
			return 0
		case (*a+1)%3 == *b:
			return -1
		}
		return 1
	}
	for _, tt := range []struct{ in, want []int }{
		{[]int{0, 1, 2}, []int{0, 1, 2}},
		{[]int{2, 0, 1}, []int{2, 0, 1}},
		{[]int{1, 2, 0}, []int{1, 2, 0}},
		{[]int{2, 1, 0}, []int{2, 0, 1}},
		{[]int{0, 2, 1, 0}, []int{2, 0, 0, 1}},
	} {
		got := slices.Clone(tt.in)
		mergeSort(got, make([]int, len(got)), beats)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("mergeSort(%v) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestSortServicesKeepsDestinations checks that a service's destinations
// move with it, sorted.
func TestSortServicesKeepsDestinations(t *testing.T) {
	table := sampleTable()
	sortServices(table)
	got := map[string][]string{}
	for _, st := range table {
		for _, d := range st.dests {
			got[st.service.String()] = append(got[st.service.String()], d.String())
		}
	}
	want := map[string][]string{
		"TCP 192.0.2.10:80":     {"192.0.2.11:8080", "192.0.2.12:80"},
		"UDP 192.0.2.10:53":     {"198.51.100.20:53"},
		"TCP 203.0.113.30:443":  {"203.0.113.31:443"},
		"TCP [2001:db8::10]:80": {"192.0.2.11:80", "[2001:db8::11]:8080"},
		"FWM 100":               {"192.0.2.11:0"},
		"FWM 200 IPv6":          {"[2001:db8:ffff:ffff:ffff:ffff:ffff:fff1]:0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
