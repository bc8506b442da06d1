package rules_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/lvsgo/ipvsadm/rules"
)

// A shape is a rule set's size: so many services of so many destinations
// each. The four span what the hot path sees: many small services (a
// kube-proxy node), a few big ones, and one service of 10,000 servers,
// whose destinations a linear search would make quadratic.
type shape struct{ services, destinations int }

func (s shape) String() string { return fmt.Sprintf("%dx%d", s.services, s.destinations) }

var shapes = []shape{{10000, 1}, {1000, 4}, {100, 100}, {1, 10000}}

// benchInput is a rules file of the shape as ipvsadm -S -n writes one. With
// changed, it is the same table a reload would bring: every 50th service
// with another scheduler, every 50th server with another weight, every
// 100th service and server gone, and as many new ones added.
func benchInput(s shape, changed bool) string {
	var b strings.Builder
	b.Grow(s.services * (25 + 46*s.destinations))
	for i := range s.services {
		if changed && i%100 == 99 {
			continue
		}
		vip := benchAddr(10, 1, i)
		if changed && i%100 == 98 {
			vip = benchAddr(10, 64, i)
		}
		sched := "rr"
		if changed && i%50 == 7 {
			sched = "wlc"
		}
		fmt.Fprintf(&b, "-A -t %s:80 -s %s\n", vip, sched)
		for j := range s.destinations {
			n := i*s.destinations + j
			if changed && n%100 == 42 && s.destinations > 1 {
				continue
			}
			rip := benchAddr(10, 128, n)
			if changed && n%100 == 43 && s.destinations > 1 {
				rip = benchAddr(10, 192, n)
			}
			weight := 1
			if changed && n%50 == 11 {
				weight = 2
			}
			fmt.Fprintf(&b, "-a -t %s:80 -r %s:8080 -m -w %d\n", vip, rip, weight)
		}
	}
	return b.String()
}

// benchAddr is the n-th address, counting from 1, of the /10 at a.b.0.0.
func benchAddr(a, b byte, n int) netip.Addr {
	n++
	return netip.AddrFrom4([4]byte{a, b + byte(n>>16), byte(n >> 8), byte(n)})
}

func benchParse(b *testing.B, input string) *rules.Set {
	b.Helper()
	set, err := rules.Parse(strings.NewReader(input), nil)
	if err != nil {
		b.Fatal(err)
	}
	return set
}

// BenchmarkParse is the first step of ipvsadm-restore --atomic and --sync:
// the whole file into a Set, checked as the kernel would check it.
func BenchmarkParse(b *testing.B) {
	for _, s := range shapes {
		b.Run(s.String(), func(b *testing.B) {
			input := benchInput(s, false)
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			for b.Loop() {
				benchParse(b, input)
			}
		})
	}
}

// BenchmarkReplace is the plan of --atomic: into an empty table (a boot),
// and over a table nearly the same as the input.
func BenchmarkReplace(b *testing.B) {
	benchPlan(b, rules.Replace)
}

// BenchmarkDiff is the plan of --sync, as BenchmarkReplace.
func BenchmarkDiff(b *testing.B) {
	benchPlan(b, rules.Diff)
}

func benchPlan(b *testing.B, plan func(from, to *rules.Set) *rules.Plan) {
	for _, s := range shapes {
		to := benchParse(b, benchInput(s, false))
		near := benchParse(b, benchInput(s, true))
		for _, from := range []struct {
			name string
			set  *rules.Set
		}{{"empty", &rules.Set{}}, {"near", near}} {
			b.Run(from.name+"/"+s.String(), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					plan(from.set, to)
				}
			})
		}
	}
}

// BenchmarkWrites is what Plan.Apply hands the kernel for a load into an
// empty table.
func BenchmarkWrites(b *testing.B) {
	for _, s := range shapes {
		b.Run(s.String(), func(b *testing.B) {
			p := rules.Replace(&rules.Set{}, benchParse(b, benchInput(s, false)))
			b.ReportAllocs()
			for b.Loop() {
				p.Writes()
			}
		})
	}
}
