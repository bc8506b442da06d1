package rules

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// aheadHosts and aheadServices are the names the inputs of
// TestParseAheadIsParseLines use.
const (
	aheadHosts    = "192.0.2.10 www.example.com www\n192.0.2.11 web1\n"
	aheadServices = "http 80/tcp\nhttps 443/tcp\n"
)

// A recordingNames is compat.Names that notes every question it is asked,
// in order.
type recordingNames struct {
	compat.Names
	asked []string
}

func (n *recordingNames) HostAddr(name string) (netip.Addr, bool) {
	n.asked = append(n.asked, "HostAddr "+name)
	return n.Names.HostAddr(name)
}

func (n *recordingNames) AddrHost(a netip.Addr) (string, bool) {
	n.asked = append(n.asked, "AddrHost "+a.String())
	return n.Names.AddrHost(a)
}

func (n *recordingNames) ServicePort(name, proto string) (uint16, bool) {
	n.asked = append(n.asked, "ServicePort "+name+"/"+proto)
	return n.Names.ServicePort(name, proto)
}

func (n *recordingNames) PortService(port uint16, proto string) (string, bool) {
	n.asked = append(n.asked, fmt.Sprintf("PortService %d/%s", port, proto))
	return n.Names.PortService(port, proto)
}

// aheadInputs are restore inputs at the edges of parsing ahead: refusals
// of every kind on early and late lines, names, comments and blanks, a
// last line without its newline, lines too long, and random mixes of them.
func aheadInputs() map[string]string {
	var saved strings.Builder
	for i := range 300 {
		fmt.Fprintf(&saved, "-A -t 10.1.%d.%d:80 -s rr\n", i/250, i%250+1)
		for j := range 3 {
			fmt.Fprintf(&saved, "-a -t 10.1.%d.%d:80 -r 10.2.%d.%d:8080 -m -w 1\n", i/250, i%250+1, j, i%250+1)
		}
	}
	s := saved.String()
	lines := strings.SplitAfter(s, "\n")
	insert := func(at int, line string) string {
		return strings.Join(lines[:at], "") + line + strings.Join(lines[at:], "")
	}
	inputs := map[string]string{
		"a saved table":                   s,
		"without its last newline":        strings.TrimSuffix(s, "\n"),
		"a check of ipvsadm late":         insert(1100, "-A -t 10.0.0.2:0 -s rr\n"),
		"a popt error early":              insert(3, "-A -t 10.0.0.1:80 -s\n"),
		"a service twice":                 insert(700, "-A -t 10.1.0.1:80 -s wlc\n"),
		"a server of no service":          insert(5, "-a -t 10.9.0.1:80 -r 10.2.0.1\n"),
		"another command":                 insert(1199, "-L -n\n"),
		"a line too long":                 insert(900, strings.Repeat("x", maxLine)+"\n"),
		"a line just short enough":        insert(900, "#"+strings.Repeat("x", maxLine-2)+"\n"),
		"a line too long at the end":      s + strings.Repeat("y", maxLine),
		"an error before a line too long": insert(10, "-D -f 1\n") + strings.Repeat("y", maxLine),
		"comments, blanks, CRs, ipvsadm":  strings.ReplaceAll(strings.ReplaceAll(s, "-m -w 1\n", "-m -w 1\r\n\n# x\n \t\n"), "-A ", "ipvsadm -A "),
		"names": strings.ReplaceAll(insert(1000, "-A -t www.example.com:http\n-a -t www:80 -r web1 -m\n-A -t 192.0.2.12:https\n"),
			"-t 10.1.0.7:80", "-t 10.1.0.7:https"),
		"names, then a refusal": insert(1100, "-a -t www.example.com:http -r web1\n") + "-a -t www.example.com:http -r web1\n",
	}
	// Random writes that the table takes: services of 10.1.0.1 to 40,
	// each with servers of 10.2.0.1 to 40, added and removed as the
	// lines before allow; in every other input, now and then one it
	// refuses.
	r := rand.New(rand.NewPCG(1, 1))
	for n := range 12 {
		var b strings.Builder
		table := make(map[int]map[int]bool)
		some := func(m map[int]bool) int {
			for k := range m {
				return k
			}
			return 0
		}
		for range 3000 {
			svc, dest := r.IntN(40)+1, r.IntN(40)+1
			dests, ok := table[svc]
			if n%2 == 1 && r.IntN(1500) == 0 {
				ok = !ok // a refusal
			}
			switch k := r.IntN(100); {
			case !ok:
				fmt.Fprintf(&b, "-A -t 10.1.0.%d:80 -s rr\n", svc)
				table[svc] = make(map[int]bool)
			case k < 2:
				fmt.Fprintf(&b, "-D -t 10.1.0.%d:80\n", svc)
				delete(table, svc)
			case k < 4:
				fmt.Fprintf(&b, "-E -t 10.1.0.%d:80 -s wrr\n", svc)
			case k < 5 && r.IntN(4) == 0:
				b.WriteString("-C\n")
				clear(table)
			case k < 20 && len(dests) > 0:
				d := some(dests)
				fmt.Fprintf(&b, "-d -t 10.1.0.%d:80 -r 10.2.0.%d\n", svc, d)
				delete(dests, d)
			case k < 30 && len(dests) > 0:
				fmt.Fprintf(&b, "-e -t 10.1.0.%d:80 -r 10.2.0.%d -w %d\n", svc, some(dests), r.IntN(5))
			case k < 35:
				fmt.Fprintf(&b, "# %d\n\n", k)
			case !dests[dest]:
				fmt.Fprintf(&b, "-a -t 10.1.0.%d:80 -r 10.2.0.%d -m\n", svc, dest)
				if dests != nil { // else a refusal
					dests[dest] = true
				}
			}
		}
		inputs[fmt.Sprintf("random %d", n)] = b.String()
	}
	return inputs
}

// errorView is an error of Parse as it can be compared: its cause, a
// *compat.Failure, an *ipvs.Error or bufio.ErrTooLong, as its type and
// words.
func errorView(err error) any {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	type view struct {
		Line            int
		Text, Message   string
		Status          int
		Cause, Rollback string
	}
	return view{e.Line, e.Text, e.Message, e.Status, fmt.Sprintf("%T: %v", e.Err, e.Err), fmt.Sprint(e.Rollback)}
}

// TestParseAheadIsParseLines: parsing ahead, on any number of goroutines
// and in chunks of any size, gives what parsing line by line gives: the
// same Set, or the same *Error on the same line; and it asks the caller's
// names the same questions in the same order.
func TestParseAheadIsParseLines(t *testing.T) {
	for name, input := range aheadInputs() {
		t.Run(name, func(t *testing.T) {
			names := &recordingNames{Names: compat.FileNames([]byte(aheadHosts), []byte(aheadServices))}
			want, wantErr := parseInput(input, names, 1, chunkBytes)
			wantAsked := names.asked
			for _, workers := range []int{2, 3} {
				for _, chunk := range []int{1, 100, 4 << 10} {
					names.asked = nil
					got, err := parseInput(input, names, workers, chunk)
					where := fmt.Sprintf("%d goroutines, chunks of %d bytes", workers, chunk)
					if diff := cmp.Diff(errorView(wantErr), errorView(err)); diff != "" {
						t.Fatalf("%s: error (-want +got):\n%s", where, diff)
					}
					if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
						t.Fatalf("%s: set (-want +got):\n%s", where, diff)
					}
					if diff := cmp.Diff(wantAsked, names.asked); diff != "" {
						t.Fatalf("%s: names asked (-want +got):\n%s", where, diff)
					}
				}
			}
		})
	}
}

// TestParseAheadPanics: a panic of the grammar on a line parsed ahead is
// the caller's, as it is parsing line by line, and only if no line before
// it is refused.
func TestParseAheadPanics(t *testing.T) {
	grammar := parseRule
	t.Cleanup(func() { parseRule = grammar })
	parseRule = func(tokens []string, names compat.Names) (ipvs.Op, error) {
		if tokens[0] == "panic" {
			panic("at " + tokens[1])
		}
		return grammar(tokens, names)
	}
	var body strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&body, "-A -t 10.3.%d.%d:80\n", i/250, i%250+1)
	}
	input := body.String()
	tests := []struct {
		name, input string
		want        any // the panic's value, or the error's line
	}{
		{"a panic", input + "panic late\n", "at late"},
		{"an error before it", "-D -f 1\n" + input + "panic late\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, workers := range []int{1, 2} {
				var got any
				func() {
					defer func() {
						if v := recover(); v != nil {
							got = v
						}
					}()
					_, err := parseInput(tt.input, compat.FileNames(nil, nil), workers, 100)
					var e *Error
					if errors.As(err, &e) {
						got = e.Line
					}
				}()
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%d goroutines: (-want +got):\n%s", workers, diff)
				}
			}
		})
	}
}
