package rules_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newTable(t, base)
			from, err := rules.Read(c)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, op := range rules.Diff(from, mustParse(t, tt.to)).Writes() {
				got = append(got, string(compat.AppendRule(nil, op)))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}
