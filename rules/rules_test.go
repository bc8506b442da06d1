package rules_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/lvsgo/ipvsadm/rules"
)

// mustParse parses numeric restore input.
func mustParse(t *testing.T, input string) *rules.Set {
	t.Helper()
	set, err := rules.Parse(strings.NewReader(input), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return set
}

// format is Format with -n.
func format(t *testing.T, set *rules.Set) string {
	t.Helper()
	var b bytes.Buffer
	if err := rules.Format(&b, set, true, nil); err != nil {
		t.Fatalf("Format: %v", err)
	}
	return b.String()
}

// newTable returns an in-memory kernel holding what input restores, and a
// client of it.
func newTable(t *testing.T, input string) (*ipvstest.Kernel, *ipvs.Client) {
	t.Helper()
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.Dial())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := rules.Replace(&rules.Set{}, mustParse(t, input)).Apply(c); err != nil {
		t.Fatalf("loading the table: %v", err)
	}
	return k, c
}

// read reads the table as -Sn would print it.
func read(t *testing.T, c *ipvs.Client) string {
	t.Helper()
	set, err := rules.Read(c)
	if err != nil {
		t.Fatal(err)
	}
	return format(t, set)
}

// listing is ipvsadm -Ln --stats --exact of the table, with extra options.
func listing(t *testing.T, k *ipvstest.Kernel, extra ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	status := compat.Main(compat.Env{
		Args:   append([]string{"ipvsadm", "-Ln", "--stats", "--exact"}, extra...),
		Stdin:  strings.NewReader(""),
		Stdout: &stdout,
		Stderr: &stderr,
		Dial:   func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.Dial()) },
		Names:  compat.FileNames(nil, nil),
	})
	if status != 0 {
		t.Fatalf("ipvsadm -Ln --stats: status %d: %s", status, stderr.String())
	}
	return stdout.String()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // the set, as -Sn prints it
	}{
		{
			name:  "empty",
			input: "",
			want:  "",
		},
		{
			name: "comments, blank lines and the word ipvsadm",
			input: "# saved by hand\n\n" +
				"ipvsadm -A -t 10.0.0.1:80 -s rr\n" +
				"   \t\r\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 3\r\n",
			want: "-A -t 10.0.0.1:80 -s rr\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 3\n",
		},
		{
			name: "edits, deletes and a flush on the way",
			input: "-A -t 10.0.0.9:80\n" +
				"-C\n" +
				"-A -t 10.0.0.1:80 -s rr\n" +
				"-A -u 10.0.0.2:53 -s wlc\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.1 -w 2\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.2\n" +
				"-E -t 10.0.0.1:80 -s sh -b sh-port -p 60\n" +
				"-e -t 10.0.0.1:80 -r 10.0.1.1 -w 5\n" +
				"-d -t 10.0.0.1:80 -r 10.0.1.2\n" +
				"-D -u 10.0.0.2:53\n" +
				"-A -f 7 -6 -s lc\n" +
				"-a -f 7 -6 -r [2001:db8::1]:0 -i --tun-type gue --tun-port 6080 --tun-csum\n",
			want: "-A -t 10.0.0.1:80 -s sh -p 60 -b sh-port\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 5\n" +
				"-A -f 7 -6 -s lc\n" +
				"-a -f 7 -6 -r [2001:db8::1]:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, format(t, mustParse(t, tt.input))); diff != "" {
				t.Errorf("Parse then Format (-want +got):\n%s", diff)
			}
		})
	}
}

// outline is a set as the order of its services and destinations, each
// with the line that last set it: "-t 10.0.0.1:80 @1: 10.0.1.1:80@2".
func outline(set *rules.Set) []string {
	var lines []string
	for _, s := range set.Services {
		l := fmt.Sprintf("-t %s @%d:", netip.AddrPortFrom(s.Address, s.Port), s.Line)
		if s.FirewallMark != 0 {
			l = fmt.Sprintf("-f %d @%d:", s.FirewallMark, s.Line)
		}
		for _, d := range s.Destinations {
			l += fmt.Sprintf(" %s@%d", netip.AddrPortFrom(d.Address, d.Port), d.Line)
		}
		lines = append(lines, l)
	}
	return lines
}

// TestParseOrder: the services of a parsed set are in the order of the
// lines that added them, and the destinations of each too, whatever
// removals, flushes and interleavings come between; a service or
// destination added again after its removal comes last.
func TestParseOrder(t *testing.T) {
	manyOutline := func(from, to, line int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, " 10.0.1.%d:80@%d", i, line+i-from)
		}
		return b.String()
	}
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{
			name: "servers of two services in turn",
			input: "-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.1\n-a -t 10.0.0.2:80 -r 10.0.2.1\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.2\n-a -t 10.0.0.2:80 -r 10.0.2.2\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.3\n",
			want: []string{
				"-t 10.0.0.1:80 @1: 10.0.1.1:80@3 10.0.1.2:80@5 10.0.1.3:80@7",
				"-t 10.0.0.2:80 @2: 10.0.2.1:80@4 10.0.2.2:80@6",
			},
		},
		{
			name: "services removed and added again",
			input: "-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80\n-A -f 3\n-A -t 10.0.0.4:80\n" +
				"-a -t 10.0.0.2:80 -r 10.0.2.1\n-D -t 10.0.0.1:80\n-D -t 10.0.0.2:80\n" +
				"-A -t 10.0.0.2:80\n-E -f 3 -s rr\n-a -t 10.0.0.4:80 -r 10.0.4.1\n",
			want: []string{
				"-f 3 @9:",
				"-t 10.0.0.4:80 @4: 10.0.4.1:80@10",
				"-t 10.0.0.2:80 @8:",
			},
		},
		{
			name: "a flush between",
			input: "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1\n-C\n" +
				"-A -t 10.0.0.2:80\n-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.2\n-a -t 10.0.0.2:80 -r 10.0.2.1\n",
			want: []string{
				"-t 10.0.0.2:80 @4: 10.0.2.1:80@7",
				"-t 10.0.0.1:80 @5: 10.0.1.2:80@6",
			},
		},
		{
			name: "a service of many servers, edited, removed and added again",
			input: "-A -t 10.0.0.1:80\n" + servers(40) +
				"-d -t 10.0.0.1:80 -r 10.0.1.1:80\n-d -t 10.0.0.1:80 -r 10.0.1.20:80\n" +
				"-e -t 10.0.0.1:80 -r 10.0.1.40:80 -w 2\n-a -t 10.0.0.1:80 -r 10.0.1.1:80\n",
			want: []string{
				"-t 10.0.0.1:80 @1:" + manyOutline(2, 19, 3) + manyOutline(21, 39, 22) + " 10.0.1.40:80@44 10.0.1.1:80@45",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, outline(mustParse(t, tt.input))); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// A nothingReader returns nothing and no error, for ever.
type nothingReader struct{}

func (nothingReader) Read([]byte) (int, error) { return 0, nil }

// TestParseReaders: Parse reads any reader, and a read error ends the
// input: the lines before it are parsed, and the error is what Parse
// returns unless one of them is refused.
func TestParseReaders(t *testing.T) {
	const input = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m\n"
	errRead := errors.New("read error")
	tests := []struct {
		name    string
		r       io.Reader
		want    string // the set, as -Sn prints it
		wantErr string
	}{
		{
			name: "a byte at a time",
			r:    iotest.OneByteReader(strings.NewReader(input)),
			want: "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n",
		},
		{
			name:    "a read error",
			r:       io.MultiReader(strings.NewReader(input), iotest.ErrReader(errRead)),
			wantErr: "read error",
		},
		{
			name:    "a refused line before a read error",
			r:       io.MultiReader(strings.NewReader("-D -f 1\n"), iotest.ErrReader(errRead)),
			wantErr: "line 1: -D -f 1: No such service",
		},
		{
			name:    "a refused last line cut by a read error",
			r:       io.MultiReader(strings.NewReader(input+"-A -t 10.0.0.2:0"), iotest.ErrReader(errRead)),
			wantErr: "line 3: -A -t 10.0.0.2:0: Zero port specified for non-persistent service",
		},
		{
			name:    "nothing, again and again",
			r:       nothingReader{},
			wantErr: io.ErrNoProgress.Error(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := rules.Parse(tt.r, nil)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Fatalf("Parse error (-want +got):\n%s", diff)
			}
			if err == nil {
				if diff := cmp.Diff(tt.want, format(t, set)); diff != "" {
					t.Errorf("Parse then Format (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// servers is n -a lines of 10.0.0.1:80, of 10.0.1.1:80 on.
func servers(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "-a -t 10.0.0.1:80 -r 10.0.1.%d:80\n", i)
	}
	return b.String()
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  rules.Error // without Err
	}{
		{
			name:  "a check of ipvsadm",
			input: "-A -t 10.0.0.1:80\n\n-A -t 10.0.0.2:0 -s rr\n",
			want:  rules.Error{Line: 3, Text: "-A -t 10.0.0.2:0 -s rr", Message: "Zero port specified for non-persistent service", Status: 2},
		},
		{
			name:  "a popt error",
			input: "-A -t 10.0.0.1:80 -s\n",
			want:  rules.Error{Line: 1, Text: "-A -t 10.0.0.1:80 -s", Message: "-s: missing argument", Status: 255},
		},
		{
			name:  "an indented comment is no comment",
			input: "-A -t 10.0.0.1:80\n  # no\n",
			want:  rules.Error{Line: 2, Text: "  # no", Message: "Try `ipvsadm -h' or 'ipvsadm --help' for more information.", Status: 255},
		},
		{
			name:  "a trailing comment",
			input: "-A -t 10.0.0.1:80 -s rr # web\n",
			want:  rules.Error{Line: 1, Text: "-A -t 10.0.0.1:80 -s rr # web", Message: "unexpected argument #", Status: 2},
		},
		{
			name:  "a service twice",
			input: "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80 -s rr\n",
			want:  rules.Error{Line: 2, Text: "-A -t 10.0.0.1:80 -s rr", Message: "Service already exists", Status: 255},
		},
		{
			name:  "a server of no service",
			input: "-A -t 10.0.0.1:80\n-a -t 10.0.0.2:80 -r 10.0.1.1\n",
			want:  rules.Error{Line: 2, Text: "-a -t 10.0.0.2:80 -r 10.0.1.1", Message: "Service not defined", Status: 255},
		},
		{
			name:  "a server twice",
			input: "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -w 3\n",
			want:  rules.Error{Line: 3, Text: "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -w 3", Message: "Destination already exists", Status: 255},
		},
		{
			// Golden 0114: the kernel refuses it, even with no upper
			// threshold.
			name:  "a lower threshold over the upper",
			input: "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1 -x 10 -y 20\n",
			want:  rules.Error{Line: 2, Text: "-a -t 10.0.0.1:80 -r 10.0.1.1 -x 10 -y 20", Message: "Numerical result out of range", Status: 255},
		},
		{
			name:  "a lower threshold and no upper",
			input: "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1\n-e -t 10.0.0.1:80 -r 10.0.1.1 -y 5\n",
			want:  rules.Error{Line: 3, Text: "-e -t 10.0.0.1:80 -r 10.0.1.1 -y 5", Message: "Numerical result out of range", Status: 255},
		},
		{
			name:  "editing a missing server",
			input: "-A -t 10.0.0.1:80\n-e -t 10.0.0.1:80 -r 10.0.1.1\n",
			want:  rules.Error{Line: 2, Text: "-e -t 10.0.0.1:80 -r 10.0.1.1", Message: "No such destination", Status: 255},
		},
		{
			name:  "deleting a missing service",
			input: "-D -f 1\n",
			want:  rules.Error{Line: 1, Text: "-D -f 1", Message: "No such service", Status: 255},
		},
		{
			name:  "a server of a removed service",
			input: "-A -f 1\n-A -f 2\n-D -f 1\n-a -f 1 -r 10.0.1.1\n",
			want:  rules.Error{Line: 4, Text: "-a -f 1 -r 10.0.1.1", Message: "Service not defined", Status: 255},
		},
		{
			name:  "a server twice among many",
			input: "-A -t 10.0.0.1:80\n" + servers(40) + "-a -t 10.0.0.1:80 -r 10.0.1.33:80\n",
			want:  rules.Error{Line: 42, Text: "-a -t 10.0.0.1:80 -r 10.0.1.33:80", Message: "Destination already exists", Status: 255},
		},
		{
			name:  "a removed server among many",
			input: "-A -t 10.0.0.1:80\n" + servers(40) + "-d -t 10.0.0.1:80 -r 10.0.1.33:80\n-e -t 10.0.0.1:80 -r 10.0.1.33:80\n",
			want:  rules.Error{Line: 43, Text: "-e -t 10.0.0.1:80 -r 10.0.1.33:80", Message: "No such destination", Status: 255},
		},
		{
			name:  "a listing",
			input: "-A -t 10.0.0.1:80\n-L -n\n",
			want:  rules.Error{Line: 2, Text: "-L -n", Message: "only -A, -E, -D, -a, -e, -d and -C lines can be restored as a transaction", Status: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules.Parse(strings.NewReader(tt.input), nil)
			var got *rules.Error
			if !errors.As(err, &got) {
				t.Fatalf("Parse: %v, want a *rules.Error", err)
			}
			got.Err = nil
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("Parse error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	const base = "-A -t 10.0.0.1:80 -s rr\n" +
		"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n" +
		"-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 1\n" +
		"-A -u 10.0.0.2:53 -s wlc\n" +
		"-a -u 10.0.0.2:53 -r 10.0.2.1:53 -g -w 1\n" +
		"-A -f 7 -s lc -p 300\n"
	tests := []struct {
		name string
		from string // base if empty
		to   string
		want []string
	}{
		{
			name: "the same",
			to:   base,
			want: nil,
		},
		{
			name: "the same, in another order",
			to: "-A -f 7 -s lc -p 300\n" +
				"-A -u 10.0.0.2:53 -s wlc\n" +
				"-a -u 10.0.0.2:53 -r 10.0.2.1:53 -g -w 1\n" +
				"-A -t 10.0.0.1:80 -s rr\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 1\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n",
			want: nil,
		},
		{
			name: "everything changes",
			to: "-A -t 10.0.0.1:80 -s wrr\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 1\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 4\n" +
				"-A -u 10.0.0.2:53 -s wlc\n" +
				"-a -u 10.0.0.2:53 -r 10.0.2.1:53 -g -w 1\n" +
				"-A -t 10.0.0.3:443 -s sh\n" +
				"-a -t 10.0.0.3:443 -r 10.0.3.1:443 -g -w 1\n",
			want: []string{
				"-a -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 1",
				"-A -t 10.0.0.3:443 -s sh",
				"-a -t 10.0.0.3:443 -r 10.0.3.1:443 -g -w 1",
				"-E -t 10.0.0.1:80 -s wrr",
				"-e -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 4",
				"-d -t 10.0.0.1:80 -r 10.0.1.2:80",
				"-D -f 7",
			},
		},
		{
			name: "empty",
			to:   "",
			want: []string{"-D -t 10.0.0.1:80", "-D -u 10.0.0.2:53", "-D -f 7"},
		},
		{
			// Found by an index, not by comparing keys in turn.
			name: "a service of many servers",
			from: "-A -t 10.0.0.1:80\n" + servers(40),
			to: "-A -t 10.0.0.1:80\n" + strings.Replace(strings.Replace(servers(40),
				"-r 10.0.1.7:80\n", "-r 10.0.1.7:80 -w 2\n", 1),
				"-a -t 10.0.0.1:80 -r 10.0.1.9:80\n", "", 1) +
				"-a -t 10.0.0.1:80 -r 10.0.1.41:80\n",
			want: []string{
				"-a -t 10.0.0.1:80 -r 10.0.1.41:80 -g -w 1",
				"-e -t 10.0.0.1:80 -r 10.0.1.7:80 -g -w 2",
				"-d -t 10.0.0.1:80 -r 10.0.1.9:80",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from
			if from == "" {
				from = base
			}
			_, c := newTable(t, from)
			table, err := rules.Read(c)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, op := range rules.Diff(table, mustParse(t, tt.to)).Writes() {
				got = append(got, string(compat.AppendRule(nil, op)))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}
