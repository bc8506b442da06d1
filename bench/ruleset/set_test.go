package ruleset

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/rules"
)

func TestWriteRestoreFirstLines(t *testing.T) {
	var b bytes.Buffer
	if err := (Set{Services: 2, DestsPerService: 2}).WriteRestore(&b); err != nil {
		t.Fatal(err)
	}
	want := "-A -t 10.1.0.1:80 -s rr\n" +
		"-a -t 10.1.0.1:80 -r 10.128.0.1:8080 -m -w 1\n" +
		"-a -t 10.1.0.1:80 -r 10.128.0.2:8080 -m -w 2\n" +
		"-A -t 10.1.0.2:80 -s rr\n" +
		"-a -t 10.1.0.2:80 -r 10.128.0.3:8080 -m -w 3\n" +
		"-a -t 10.1.0.2:80 -r 10.128.0.4:8080 -m -w 4\n"
	if got := b.String(); got != want {
		t.Errorf("restore input:\n%s\nwant:\n%s", got, want)
	}
}

// TestWriteRestoreParsesAsTheModel reads the restore input with the
// project's own ipvsadm grammar and checks it builds the table the Set
// describes, for each shape the benchmark uses (smaller, same shapes).
func TestWriteRestoreParsesAsTheModel(t *testing.T) {
	for _, s := range []Set{{1000, 4}, {300, 1}, {20, 100}, {1, 0}} {
		t.Run(s.Short(), func(t *testing.T) {
			var b bytes.Buffer
			if err := s.WriteRestore(&b); err != nil {
				t.Fatal(err)
			}
			if lines := bytes.Count(b.Bytes(), []byte("\n")); lines != s.Rules() {
				t.Errorf("%d lines, want Rules() = %d", lines, s.Rules())
			}
			parsed, err := rules.Parse(bytes.NewReader(b.Bytes()), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(parsed.Services) != s.Services {
				t.Fatalf("%d services, want %d", len(parsed.Services), s.Services)
			}
			for i, ps := range parsed.Services {
				svc := s.Service(i)
				if ps.Protocol != ipvs.TCP || ps.Address != svc.Address || ps.Port != svc.Port || ps.Scheduler != svc.Scheduler {
					t.Fatalf("service %d: parsed %+v, want %+v", i, ps.Service, svc)
				}
				if len(ps.Destinations) != s.DestsPerService {
					t.Fatalf("service %d: %d destinations, want %d", i, len(ps.Destinations), s.DestsPerService)
				}
				for j, pd := range ps.Destinations {
					d := s.Destination(i, j)
					if pd.Address != d.Address || pd.Port != d.Port || pd.Weight != int32(d.Weight) || pd.Forwarding != ipvs.Masquerade {
						t.Fatalf("destination %d of service %d: parsed %+v, want %+v", j, i, pd.Destination, d)
					}
				}
			}
			// The input is what ipvsadm -Sn prints for the table, so the
			// two sides' listings compare against a known text.
			var f bytes.Buffer
			if err := rules.Format(&f, parsed, true, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.Bytes(), b.Bytes()) {
				t.Errorf("-Sn form of the parsed set differs from the input")
			}
		})
	}
}

func TestAddressesStayInOneHalfOfTheCircle(t *testing.T) {
	s := Set{Services: 50000, DestsPerService: 1}
	lo, hi := s.Service(0).Address, s.Destination(s.Services-1, 0).Address
	if !netip.MustParsePrefix("10.0.0.0/8").Contains(lo) || !netip.MustParsePrefix("10.0.0.0/8").Contains(hi) {
		t.Errorf("addresses %v .. %v leave 10.0.0.0/8", lo, hi)
	}
	if last := s.Service(s.Services - 1).Address; !last.Less(s.Destination(0, 0).Address) {
		t.Errorf("last service %v overlaps the destinations from %v", last, s.Destination(0, 0).Address)
	}
}

func TestParseAndLabel(t *testing.T) {
	s, err := Parse("50000x1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Label() != "50,000 × 1" || s.Short() != "50000x1" || s.Rules() != 100000 {
		t.Errorf("got %q %q %d", s.Label(), s.Short(), s.Rules())
	}
	for _, bad := range []string{"", "10", "x4", "0x1", "10x-1", "9000000x1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
	for n, want := range map[int]string{0: "0", 100: "100", 1000: "1,000", 123456: "123,456", 1234567: "1,234,567"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
