package compat

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// parses marks a command line that is valid: what ipvsadm then reports
// comes from the kernel or the listing, not from the grammar.
const parses = -1

// An outcome is what one ipvsadm command line (after the program name,
// split at spaces) ends with: a status and stderr, or parses.
type outcome struct {
	args   string
	status int
	stderr string
}

// checkOutcomes runs parseArgs on each command line and compares what it
// ends with.
func checkOutcomes(t *testing.T, tests []outcome) {
	t.Helper()
	for _, tt := range tests {
		args := append([]string{"ipvsadm"}, strings.Fields(tt.args)...)
		checkOutcome(t, args, tt.status, tt.stderr)
	}
}

func checkOutcome(t *testing.T, args []string, status int, stderr string) {
	t.Helper()
	req, ex := parseArgs(args, grammarNames)
	if status == parses {
		if ex != nil || req == nil {
			t.Errorf("%q: parseArgs = %v, %+v; want a request", args, req, ex)
		}
		return
	}
	// A popt error (255, not the "Try" line) fails only its line in a
	// restore.
	lineFails := status == 255 && !strings.HasPrefix(stderr, "Try `")
	want := &exit{status: status, stderr: stderr, lineFails: lineFails}
	if diff := cmp.Diff(want, ex, cmp.AllowUnexported(exit{})); diff != "" {
		t.Errorf("%q (-want +got):\n%s", args, diff)
	}
}

// errorCatalogue is §10.3 of the reference, every line: the errors of the
// grammar with their text and status, and the lines that parse and fail
// later in the kernel (their message is in the comment). The fuzz tests
// take its command lines as seeds.
var errorCatalogue = []outcome{
	{"-A", 2, "You need to supply the 'service-address' option for the 'add-service' command\n"},
	{"-A -t", 255, "-t: missing argument\n"},
	{"-A -t 80", 2, "illegal virtual server address[:port] specified\n"},
	{"-A -t 1.2.3.4:", 2, "illegal virtual server address[:port] specified\n"},
	{"-A -t 1.2.3.4", 2, "Zero port specified for non-persistent service\n"},
	{"-A -t 1.2.3.4:80 -p rr", 2, "invalid timeout value `rr' specified\n"},
	{"-A -t 1.2.3.4:80 -p 2678401", 2, "invalid timeout value `2678401' specified\n"},
	{"-A -t 1.2.3.4:80 -p -1", 255, "-1: unknown option\n"},
	{"-A -t 1.2.3.4:80 -p 1 -p 2", 2, "multiple 'persistent' options specified\n"},
	{"-A -t 1.2.3.4:80 -M junk", 2, "illegal virtual server persistent mask specified\n"},
	{"-A -t [2001::2]:80 -p -M 129", 2, "illegal ipv6 netmask specified\n"},
	{"-A -t 1.2.3.4:53 -o", 2, "One-Packet Scheduling is only for UDP virtual services\n"},
	{"-A -f 0", 2, "invalid fwmark value `0' specified\n"},
	{"-A -6 -f 9", 2, "-6 used before -f\n\n"},
	{"-A -t 1.2.3.4:80 -b bogus", 2, "invalid scheduler flag `bogus'\n"},
	{"-A -t 1.2.3.4:80 -b sh-port", 2, "incompatible scheduler flag `sh-port'\n"},
	{"-A -t 1.2.3.4:80 -w 5", 2, "Illegal 'weight' option with the 'add-service' command\n"},
	{"-A -t 1.2.3.4:80 -s nosuch", parses, ""}, // 255: Scheduler or persistence engine not found
	{"-A -t 10.0.0.1:80", parses, ""},          // 255: Service already exists
	{"-D -t 10.0.0.9:80", parses, ""},          // 255: No such service
	{"-E -t 10.0.0.9:80", parses, ""},          // 255: No such service
	{"-a -t 10.0.0.1:80", 2, "You need to supply the 'real-server' option for the 'add-server' command\n"},
	{"-a -t 10.0.0.1:80 -r 192.168.0.1", parses, ""}, // 255: Destination already exists
	{"-a -t 10.0.0.9:80 -r 192.168.0.1", parses, ""}, // 255: Service not defined
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -w 2147483648", 2, "illegal weight specified\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -x -1", 2, "illegal u_threshold specified\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -y 5", parses, ""}, // 255: Numerical result out of range
	{"-a -t 10.0.0.1:80 -r [2001::5]:80 -m", 2, "Different address family is allowed only for tunneling servers\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 --tun-type gre", 2, "Tunnel options conflict with forward method\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gue", 2, "You need to supply the 'tun-port' option for the 'gue' tunnel type\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gre --tun-port 5", 2, "Illegal 'tun-port' option with the 'gre' tunnel type\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-csum", 2, "Illegal 'tun-csum' option with the 'ipip' tunnel type\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gre --tun-csum --tun-nocsum", 2, "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type vxlan", 2, "illegal tunnel type specified\n"},
	{"-a -t 10.0.0.1:80 -r 1.1.1.1 -m -i", 2, "multiple 'forwarding-method' options specified\n"},
	{"-e -t 10.0.0.1:80 -r 192.168.0.99", parses, ""}, // 255: No such destination
	{"-d -t 10.0.0.1:80 -r 192.168.0.99", parses, ""}, // 255: No such destination
	{"-d -t 10.0.0.1:80 -r 192.168.0.1 -m", 2, "Illegal 'forwarding-method' option with the 'delete-server' command\n"},
	{"-Z -t 10.0.0.9:80", parses, ""}, // 255: No such service
	{"-Z -n", 2, "Illegal 'numeric' option with the 'zero' command\n"},
	{"-C -t 1.2.3.4:80", 2, "Illegal 'service-address' option with the 'flush' command\n"},
	{"-L -L", 2, "invalid option `-L'\n"},
	{"-L -s rr", 2, "Illegal 'scheduler' option with the 'list' command\n"},
	{"-L -t 10.0.0.1:80 -c", 2, "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n"},
	{"-L --timeout --daemon", 2, "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n"},
	{"-L -c --stats", 2, "options conflicts in the list command\n"},
	{"-L --daemon --persistent-conn", 2, "options conflicts in the list command\n"},
	{"-L -t 10.0.0.9:80", parses, ""}, // 1: No such service
	{"-L -6", 2, "-6 used before -f\n\n"},
	{"-L --numeric=foo", 255, "--numeric=foo: option does not take an argument\n"},
	{"-Lq", 255, "-Lq: unknown option\n"},
	{"-S --nosort", 2, "Illegal 'nosort' option with the 'save' command\n"},
	{"-R x", 2, "unexpected argument x\n"},
	{"--set 1 2", 2, "--set option requires 3 timeout values\n"},
	{"--set 1 2 3 4", 2, "unexpected argument 4\n"},
	{"--set a b c", 2, "invalid timeout value `a' specified\n"},
	{"--start-daemon foo", 2, "illegal start-daemon parameter specified\n"},
	{"--stop-daemon foo", 2, "illegal start_daemon specified\n"},
	{"--start-daemon master --syncid 256", 2, "illegal syncid specified\n"},
	{"--start-daemon master --mcast-group 1.2.3.4", 2, "invalid IPv4 mcast-group `1.2.3.4'\n"},
	{"--start-daemon master --mcast-group 2001::1", 2, "invalid IPv6 mcast-group `2001::1'\n"},
	{"--start-daemon master --mcast-port 0", 2, "illegal mcast-port specified\n"},
	{"--start-daemon master --mcast-ttl 256", 2, "illegal mcast-ttl specified\n"},
	{"--start-daemon master --sync-maxlen 65508", 2, "illegal sync-maxlen specified\n"},
	{"--start-daemon master --mcast-interface eth9", parses, ""}, // 255: Daemon has already run
	{"--start-daemon master", parses, ""},                        // 255: Daemon has already run
	{"--stop-daemon backup", parses, ""},                         // 255: No daemon is running
	{"-n", 255, "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"},
	{"-V", 255, "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"},
}

func TestParseArgsErrorCatalogue(t *testing.T) {
	checkOutcomes(t, errorCatalogue)
}

// TestParseArgsTokenisation is popt 1.19's reading of argv (§2.2, §2.3):
// clusters, "=", required and optional arguments, leftovers, "--", the
// whole element in its messages, and the first option being a command.
func TestParseArgsTokenisation(t *testing.T) {
	try := "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"
	for _, tt := range []struct {
		args   []string
		status int
		stderr string
	}{
		// Clusters: an option with an argument takes the rest.
		{[]string{"-Ln"}, parses, ""},
		{[]string{"-lcn"}, parses, ""},
		{[]string{"-At10.0.0.3:80"}, parses, ""},
		{[]string{"-Ast", "10.0.0.4:80", "rr"}, 2, "unexpected argument 10.0.0.4:80\n"},
		{[]string{"-A", "-t", "1.2.3.4:80", "-pn"}, 2, "invalid timeout value `n' specified\n"},
		// "-list" is -l -i -s t, and bit 3 is checked before bit 7.
		{[]string{"-list"}, 2, "Illegal 'scheduler' option with the 'list' command\n"},
		// "=" after short and long options.
		{[]string{"-A", "-s=rr", "-t=1.2.3.4:80", "-p=50"}, parses, ""},
		{[]string{"-A", "--tcp-service=1.2.3.4:80", "--scheduler=rr"}, parses, ""},
		{[]string{"-A", "-t", "1.2.3.4:80", "--persistent="}, 2, "invalid timeout value `' specified\n"},
		{[]string{"-A", "-t", "1.2.3.4:80", "-p="}, 2, "invalid timeout value `' specified\n"},
		{[]string{"-A", "-t="}, 2, "illegal virtual server address[:port] specified\n"},
		{[]string{"-L", "--numeric=foo"}, 255, "--numeric=foo: option does not take an argument\n"},
		{[]string{"-L", "--numeric="}, 255, "--numeric=: option does not take an argument\n"},
		{[]string{"-L", "-n=foo"}, 255, "-n=foo: option does not take an argument\n"},
		// A required argument is the next element, whatever it is.
		{[]string{"-A", "-t", "1.2.3.4:80", "-s", "-n"}, parses, ""},
		{[]string{"-a", "-t", "1.2.3.4:80", "-r", "1.1.1.1", "-w", "-1"}, 2, "illegal weight specified\n"},
		{[]string{"-A", "-t", "1.2.3.4:80", "-s", "--"}, parses, ""},
		{[]string{"-L", "-x"}, 255, "-x: missing argument\n"},
		{[]string{"-Lx"}, 255, "-Lx: missing argument\n"},
		{[]string{"-L", "--syncid"}, 255, "--syncid: missing argument\n"},
		// -p takes the next element only when it does not begin with '-'.
		{[]string{"-A", "-t", "1.2.3.4:80", "-p", "600"}, parses, ""},
		{[]string{"-A", "-t", "1.2.3.4:80", "-p", "-s", "rr"}, parses, ""},
		{[]string{"-A", "-t", "1.2.3.4:80", "-p", "rr"}, 2, "invalid timeout value `rr' specified\n"},
		{[]string{"-A", "-t", "1.2.3.4:80", "-p", "-1"}, 255, "-1: unknown option\n"},
		{[]string{"-A", "-t", "1.2.3.4:80", "-p", "--"}, parses, ""},
		{[]string{"-A", "-t", "1.2.3.4:80", "-p"}, parses, ""},
		{[]string{"-A", "-t", "1.2.3.4:80", "-p", ""}, 2, "invalid timeout value `' specified\n"},
		// Leftovers, anywhere; "--" and "-" are leftovers too.
		{[]string{"10", "20", "30", "--set"}, parses, ""},
		{[]string{"--set", "10", "-n"}, 2, "--set option requires 3 timeout values\n"},
		{[]string{"-L", "--", "-n"}, 2, "unexpected argument -n\n"},
		{[]string{"-L", "-"}, 2, "unexpected argument -\n"},
		{[]string{"-L", ""}, 2, "unexpected argument \n"},
		{[]string{"", "-L"}, 2, "unexpected argument \n"},
		{[]string{"-C", "extra"}, 2, "unexpected argument extra\n"},
		// Unknown options, named by the whole element.
		{[]string{"-Lq"}, 255, "-Lq: unknown option\n"},
		{[]string{"-L", "--bogus=1"}, 255, "--bogus=1: unknown option\n"},
		{[]string{"-L", "--tcp"}, 255, "--tcp: unknown option\n"},
		{[]string{"-L", "---n"}, 255, "---n: unknown option\n"},
		{[]string{"-L", "-=x"}, 255, "-=x: unknown option\n"},
		{[]string{"-L", "-I", "5"}, 255, "-I: unknown option\n"},
		// The first option must be a command.
		{[]string{"-n"}, 255, try},
		{[]string{"-nL"}, 255, try},
		{[]string{"-c", "-L"}, 255, try},
		{[]string{"-t", "1.2.3.4:80"}, 255, try},
		{[]string{"--start-daemon"}, 255, try},
		{[]string{"-V"}, 255, try},
		{[]string{"--he"}, 255, try},
		{[]string{"--zero=1"}, 255, try},
		{[]string{"-L=1"}, 255, try},
		{[]string{"--", "-L"}, 255, try},
		{[]string{"only", "leftovers"}, 255, try},
		{[]string{}, 255, try},
		// A second command is an invalid option, named by the last
		// element popt read.
		{[]string{"-L", "-L"}, 2, "invalid option `-L'\n"},
		{[]string{"-LL"}, 2, "invalid option `-LL'\n"},
		{[]string{"-L", "-h"}, 2, "invalid option `-h'\n"},
		{[]string{"-L", "-v"}, 2, "invalid option `-v'\n"},
		{[]string{"--set", "1", "2", "3", "--set", "4", "5", "6"}, 2, "invalid option `--set'\n"},
		{[]string{"-L", "--start-daemon", "master"}, 2, "invalid option `master'\n"},
		{[]string{"-C", "-C"}, 2, "invalid option `-C'\n"},
		// The daemon commands check their argument at once.
		{[]string{"--start-daemon", "foo", "-Lq"}, 2, "illegal start-daemon parameter specified\n"},
		{[]string{"--stop-daemon=backup"}, parses, ""},
		{[]string{"--start-daemon", "Master"}, 2, "illegal start-daemon parameter specified\n"},
		// A NUL ends an argument, as in C.
		{[]string{"-L\x00q"}, parses, ""},
	} {
		checkOutcome(t, append([]string{"ipvsadm"}, tt.args...), tt.status, tt.stderr)
	}
}

// TestParseArgsNextArgExpansion checks popt's "!#:+" in an option argument:
// it is replaced by the next argument not beginning with '-', which is then
// no leftover (but can still be an option's argument).
func TestParseArgsNextArgExpansion(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		sched string
		timeo uint32
	}{
		{[]string{"-A", "-t", "1.2.3.4:80", "-s", "!#:+", "rr"}, "rr", 0},
		{[]string{"-A", "-t", "1.2.3.4:80", "-s", "a!#:+b!#:+", "rr", "-p"}, "arrbrr", 360},
		{[]string{"-A", "-t", "1.2.3.4:80", "-s", "!#:+", "-p", "300"}, "300", 300},
		{[]string{"-A", "-t", "1.2.3.4:80", "-p", "10", "-s", "!#:+"}, "!#:+", 10},
		// ipvsadm 1.31 hangs in popt here: only dashed arguments follow.
		{[]string{"-A", "-t", "1.2.3.4:80", "-s", "!#:+", "-p"}, "!#:+", 360},
	} {
		req, ex := parseArgs(append([]string{"ipvsadm"}, tt.args...), grammarNames)
		if ex != nil {
			t.Errorf("%q: %+v", tt.args, ex)
			continue
		}
		if req.service.Scheduler != tt.sched || req.service.Timeout != tt.timeo {
			t.Errorf("%q: scheduler %q, timeout %d; want %q, %d", tt.args, req.service.Scheduler, req.service.Timeout, tt.sched, tt.timeo)
		}
	}
}

// TestParseArgsOptionProcessing is §2.4: options are processed in order,
// the first offending one wins, every bit may be given once, and -6, -M
// and -r depend on what came before them.
func TestParseArgsOptionProcessing(t *testing.T) {
	checkOutcomes(t, []outcome{
		{"-L -n -n", 2, "multiple 'numeric' options specified\n"},
		{"-Lnn", 2, "multiple 'numeric' options specified\n"},
		{"-a -t 1.2.3.4:80 -r 1.1.1.1 -m -i", 2, "multiple 'forwarding-method' options specified\n"},
		{"-A -t 1.2.3.4:80 -u 1.2.3.4:80", 2, "multiple 'service-address' options specified\n"},
		{"-A -t 1.2.3.4:80 -f 1", 2, "multiple 'service-address' options specified\n"},
		{"-A -f 1 -f 2", 2, "multiple 'service-address' options specified\n"},
		{"-A -t 1.2.3.4:80 -s rr -s wrr", 2, "multiple 'scheduler' options specified\n"},
		{"-L --sort --sort -n", parses, ""},
		{"-A -f 1 -6 -6", parses, ""},
		// The first bad option wins, before the legality check.
		{"-L -w x -p y", 2, "illegal weight specified\n"},
		{"-L -p y -w x", 2, "invalid timeout value `y' specified\n"},
		{"-C -f 0", 2, "invalid fwmark value `0' specified\n"},
		{"-A -f -5", 2, "invalid fwmark value `-5' specified\n"},
		{"-A -f 12abc", 2, "invalid fwmark value `12abc' specified\n"},
		{"-A -f 4294967296", 2, "invalid fwmark value `4294967296' specified\n"},
		{"-A -f 4294967295", parses, ""},
		// -6 needs a fwmark before it.
		{"-A -t 1.2.3.4:80 -6", 2, "-6 used before -f\n\n"},
		{"-C -6", 2, "-6 used before -f\n\n"},
		// -M is IPv4 (inet_aton, gethostbyname) until the service is
		// IPv6, then atoi from 1 to 128.
		{"-A -t [2001::1]:80 -p -M 255.255.255.0", 2, "illegal ipv6 netmask specified\n"},
		{"-A -t [2001::1]:80 -p -M 64x", parses, ""},
		{"-A -t [2001::1]:80 -p -M 0", 2, "illegal ipv6 netmask specified\n"},
		{"-A -t [2001::1]:80 -p -M 4294967424", parses, ""},
		{"-A -M 64 -t [2001::1]:80 -p", parses, ""},
		{"-A -M junk -t [2001::1]:80 -p", 2, "illegal virtual server persistent mask specified\n"},
		{"-A -t 1.2.3.4:80 -p -M mask24", parses, ""},
		// -r reads its port name with the protocol of the service so
		// far: none before -t.
		{"-a -t 1.2.3.4:80 -r 1.1.1.1:http", parses, ""},
		{"-a -r 1.1.1.1:http -t 1.2.3.4:80", 2, "illegal real server address[:port] specified\n"},
		{"-a -u 1.2.3.4:53 -r 1.1.1.1:http", 2, "illegal real server address[:port] specified\n"},
		{"-a -f 1 -r 1.1.1.1:http", parses, ""},
		{"-a -t 1.2.3.4:80 -r 80", 2, "illegal real server address[:port] specified\n"},
		// Limits.
		{"-a -t 1.2.3.4:80 -r 1.1.1.1 -w 2147483647", parses, ""},
		{"-a -t 1.2.3.4:80 -r 1.1.1.1 -w 65536", parses, ""},
		{"-a -t 1.2.3.4:80 -r 1.1.1.1 -x 2147483648", 2, "illegal u_threshold specified\n"},
		{"-a -t 1.2.3.4:80 -r 1.1.1.1 -y -1", 2, "illegal l_threshold specified\n"},
		{"-A -t 1.2.3.4:80 -p 1", parses, ""},
		{"-A -t 1.2.3.4:80 -p 0", 2, "invalid timeout value `0' specified\n"},
		{"-A -t 1.2.3.4:80 -p 2678400", parses, ""},
		{"--set 0 0 2678400", parses, ""},
		{"--set 0 0 2678401", 2, "invalid timeout value `2678401' specified\n"},
		{"--set 1 -2 3", 255, "-2: unknown option\n"},
		{"--set 1 x y", 2, "invalid timeout value `x' specified\n"},
		{"--set 1 2 y", 2, "invalid timeout value `y' specified\n"},
		{"--start-daemon master --syncid 255", parses, ""},
		{"--start-daemon master --mcast-port 65536", 2, "illegal mcast-port specified\n"},
		{"--start-daemon master --mcast-ttl 0", 2, "illegal mcast-ttl specified\n"},
		{"--start-daemon master --sync-maxlen 65507", parses, ""},
		{"--start-daemon master --sync-maxlen 0", 2, "illegal sync-maxlen specified\n"},
		{"-a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-port 0", 2, "illegal tunnel port specified\n"},
		{"-a -t 1.2.3.4:80 -r 1.1.1.1 -i --tun-port 65536", 2, "illegal tunnel port specified\n"},
		// -b is read after the loop, before the legality check.
		{"-L -b foo", 2, "invalid scheduler flag `foo'\n"},
		{"-L -b flag-1", 2, "Illegal 'sched-flags' option with the 'list' command\n"},
		{"-L -b", 255, "-b: missing argument\n"},
		{"-A -t 1.2.3.4:80 -b sh-port -s sh", parses, ""},
		{"-A -t 1.2.3.4:80 -b sh-port -s wlc", 2, "incompatible scheduler flag `sh-port'\n"},
		{"-A -t 1.2.3.4:80 -b sh-port -p x", 2, "invalid timeout value `x' specified\n"},
		{"-A -t 1.2.3.4:80 -b bogus -q", 255, "-q: unknown option\n"},
		{"-R x -b bogus", 2, "unexpected argument x\n"},
		// ipvsadm 1.31 crashes on "-b ,"; here it is no flag at all.
		{"-A -t 1.2.3.4:80 -b ,", parses, ""},
		{"-L -b ,", 2, "Illegal 'sched-flags' option with the 'list' command\n"},
	})
	// "-b ''" is not parsed at all, but sets its bit.
	checkOutcome(t, []string{"ipvsadm", "-A", "-t", "1.2.3.4:80", "-b", ""}, parses, "")
	checkOutcome(t, []string{"ipvsadm", "-L", "-b", ""}, 2, "Illegal 'sched-flags' option with the 'list' command\n")
	// -b keeps 127 bytes.
	long := strings.Repeat(",", 126)
	checkOutcome(t, []string{"ipvsadm", "-A", "-t", "1.2.3.4:80", "-b", long + "bogus"}, 2, "invalid scheduler flag `b'\n")
	checkOutcome(t, []string{"ipvsadm", "-A", "-t", "1.2.3.4:80", "-b", long + ",bogus"}, parses, "")
}

// TestParseArgsLegality is §2.5: the command × option matrix, checked in
// bit order, with the list command's exclusive group and its other
// conflicts.
func TestParseArgsLegality(t *testing.T) {
	checkOutcomes(t, []outcome{
		{"-A", 2, "You need to supply the 'service-address' option for the 'add-service' command\n"},
		{"-E -s rr", 2, "You need to supply the 'service-address' option for the 'edit-service' command\n"},
		{"-D", 2, "You need to supply the 'service-address' option for the 'delete-service' command\n"},
		{"-D -t 1.2.3.4:80 -s rr", 2, "Illegal 'scheduler' option with the 'delete-service' command\n"},
		{"-a -r 1.1.1.1", 2, "You need to supply the 'service-address' option for the 'add-server' command\n"},
		{"-e -t 1.2.3.4:80", 2, "You need to supply the 'real-server' option for the 'edit-server' command\n"},
		{"-d -t 1.2.3.4:80", 2, "You need to supply the 'real-server' option for the 'delete-server' command\n"},
		{"-d -t 1.2.3.4:80 -r 1.1.1.1 -w 1", 2, "Illegal 'weight' option with the 'delete-server' command\n"},
		// The lowest bit is reported first: numeric (0) before the
		// missing service-address (2).
		{"-A -n", 2, "Illegal 'numeric' option with the 'add-service' command\n"},
		{"-A -o -w 1", 2, "You need to supply the 'service-address' option for the 'add-service' command\n"},
		{"-A -t 1.2.3.4:80 -s rr -p 10 -M 1.2.3.4 -o -b flag-1 --pe sip", 2, "One-Packet Scheduling is only for UDP virtual services\n"},
		{"-A -u 1.2.3.4:80 -s rr -p 10 -M 1.2.3.4 -o -b flag-1 --pe sip", parses, ""},
		{"-A -t 1.2.3.4:80 -r 1.1.1.1", 2, "Illegal 'real-server' option with the 'add-service' command\n"},
		{"-C -n", 2, "Illegal 'numeric' option with the 'flush' command\n"},
		{"-C -t 1.2.3.4:80", 2, "Illegal 'service-address' option with the 'flush' command\n"},
		{"-C --sort", parses, ""},
		{"-R --sort", parses, ""},
		{"-R -n", 2, "Illegal 'numeric' option with the 'restore' command\n"},
		{"-S -n", parses, ""},
		{"-S -c", 2, "Illegal 'connection' option with the 'save' command\n"},
		{"-S --nosort", 2, "Illegal 'nosort' option with the 'save' command\n"},
		{"-Z", parses, ""},
		{"-Z -f 1 -6", parses, ""},
		{"-Z -n", 2, "Illegal 'numeric' option with the 'zero' command\n"},
		{"--set 1 2 3 -n", 2, "Illegal 'numeric' option with the 'set' command\n"},
		{"--start-daemon master --mcast-interface eth1 --syncid 1 --mcast-group 224.0.0.1 --mcast-port 1 --mcast-ttl 1 --sync-maxlen 1", parses, ""},
		{"--start-daemon master -n", 2, "Illegal 'numeric' option with the 'start-daemon' command\n"},
		{"--stop-daemon master --syncid 1", parses, ""},
		{"--stop-daemon master --mcast-interface eth0", 2, "Illegal 'mcast-interface' option with the 'stop-daemon' command\n"},
		// list: one of connection, service-address, timeout, daemon;
		// the later bit is named first.
		{"-L -n --stats --rate --thresholds --persistent-conn --nosort --syncid 1 -X --tun-info", parses, ""},
		{"-L -s rr", 2, "Illegal 'scheduler' option with the 'list' command\n"},
		{"-L -t 1.2.3.4:80 -c", 2, "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n"},
		{"-L -c -t 1.2.3.4:80", 2, "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n"},
		{"-L --timeout --daemon", 2, "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n"},
		{"-L --daemon -t 1.2.3.4:80", 2, "The option 'daemon' conflicts with the 'service-address' option in the 'list' command\n"},
		{"-L -c --timeout --daemon", 2, "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n"},
		{"-L -c --persistent-conn", parses, ""},
		{"-L -c --stats", 2, "options conflicts in the list command\n"},
		{"-L --timeout --rate", 2, "options conflicts in the list command\n"},
		{"-L --daemon --thresholds", 2, "options conflicts in the list command\n"},
		{"-L --timeout --persistent-conn", 2, "options conflicts in the list command\n"},
		{"-L --daemon --persistent-conn", 2, "options conflicts in the list command\n"},
		{"-L -t 1.2.3.4:80 --stats --persistent-conn", parses, ""},
		// The list conflicts come after the legality matrix.
		{"-L -c --stats -s rr", 2, "Illegal 'scheduler' option with the 'list' command\n"},
	})
}

// TestParseArgsServerChecks is §2.6 for -a and -e: the address families,
// tunnel options with other forwarding methods, and the tunnel-type ×
// option matrix (checked in the order tun-port, nocsum, csum, remcsum).
func TestParseArgsServerChecks(t *testing.T) {
	const v = "-a -t 10.0.0.1:80 -r 1.1.1.1 "
	checkOutcomes(t, []outcome{
		{"-a -t 10.0.0.1:80 -r [2001::5]:80 -m", 2, "Different address family is allowed only for tunneling servers\n"},
		{"-a -t 10.0.0.1:80 -r [2001::5]:80", 2, "Different address family is allowed only for tunneling servers\n"},
		{"-a -t 10.0.0.1:80 -r [2001::5]:80 -i", parses, ""},
		{"-e -t [2001::1]:80 -r 1.1.1.1 -i", parses, ""},
		{"-a -f 1 -6 -r 1.1.1.1", 2, "Different address family is allowed only for tunneling servers\n"},
		{"-a -f 1 -6 -r ::1", parses, ""},
		{"-a -f 1 -6 -r [::1]", 2, "illegal real server address[:port] specified\n"},
		// -d checks none of this.
		{"-d -t 10.0.0.1:80 -r [2001::5]:80", parses, ""},
		// Tunnel options need -i; -g is the default.
		{v + "--tun-type gre", 2, "Tunnel options conflict with forward method\n"},
		{v + "--tun-type ipip", 2, "Tunnel options conflict with forward method\n"},
		{v + "-m --tun-port 1", 2, "Tunnel options conflict with forward method\n"},
		{v + "-g --tun-nocsum", 2, "Tunnel options conflict with forward method\n"},
		{v + "--tun-csum", 2, "Tunnel options conflict with forward method\n"},
		{v + "--tun-remcsum", 2, "Tunnel options conflict with forward method\n"},
		{"-a -t 10.0.0.1:80 -r [2001::5]:80 -m --tun-csum", 2, "Different address family is allowed only for tunneling servers\n"},
		// ipip: no tunnel option at all.
		{v + "-i", parses, ""},
		{v + "-i --tun-type ipip", parses, ""},
		{v + "-i --tun-port 1", 2, "Illegal 'tun-port' option with the 'ipip' tunnel type\n"},
		{v + "-i --tun-nocsum", 2, "Illegal 'tun-nocsum' option with the 'ipip' tunnel type\n"},
		{v + "-i --tun-type ipip --tun-csum", 2, "Illegal 'tun-csum' option with the 'ipip' tunnel type\n"},
		{v + "-i --tun-remcsum", 2, "Illegal 'tun-remcsum' option with the 'ipip' tunnel type\n"},
		// gue: a port, and at most one checksum option.
		{v + "-i --tun-type gue", 2, "You need to supply the 'tun-port' option for the 'gue' tunnel type\n"},
		{v + "-i --tun-type gue --tun-csum", 2, "You need to supply the 'tun-port' option for the 'gue' tunnel type\n"},
		{v + "-i --tun-type gue --tun-port 6080", parses, ""},
		{v + "-i --tun-type gue --tun-port 6080 --tun-nocsum", parses, ""},
		{v + "-i --tun-type gue --tun-port 6080 --tun-csum", parses, ""},
		{v + "-i --tun-type gue --tun-port 6080 --tun-remcsum", parses, ""},
		{v + "-i --tun-type gue --tun-port 6080 --tun-csum --tun-nocsum", 2, "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n"},
		{v + "-i --tun-type gue --tun-port 6080 --tun-remcsum --tun-csum", 2, "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type\n"},
		{v + "-i --tun-type gue --tun-port 6080 --tun-remcsum --tun-nocsum", 2, "The option 'tun-remcsum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n"},
		// gre: no port, nocsum or csum.
		{v + "-i --tun-type gre", parses, ""},
		{v + "-i --tun-type gre --tun-nocsum", parses, ""},
		{v + "-i --tun-type gre --tun-csum", parses, ""},
		{v + "-i --tun-type gre --tun-port 5", 2, "Illegal 'tun-port' option with the 'gre' tunnel type\n"},
		{v + "-i --tun-type gre --tun-remcsum", 2, "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n"},
		{v + "-i --tun-type gre --tun-csum --tun-nocsum", 2, "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type\n"},
		{v + "-i --tun-type gre --tun-nocsum --tun-remcsum", 2, "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n"},
		{v + "-i --tun-type vxlan", 2, "illegal tunnel type specified\n"},
		{v + "-i --tun-type gre --tun-type gue", 2, "multiple 'tun-type' options specified\n"},
	})
}

// TestParseArgsServiceChecks is §2.6 for -A and -E.
func TestParseArgsServiceChecks(t *testing.T) {
	checkOutcomes(t, []outcome{
		{"-A -t 1.2.3.4", 2, "Zero port specified for non-persistent service\n"},
		{"-E -t 1.2.3.4:0", 2, "Zero port specified for non-persistent service\n"},
		{"-A -t 1.2.3.4 -o", 2, "Zero port specified for non-persistent service\n"},
		{"-A -t ::1", 2, "Zero port specified for non-persistent service\n"},
		{"-A -t [1.2.3.4]:99", 2, "Zero port specified for non-persistent service\n"},
		{"-A -t 1.2.3.4 -p", parses, ""},
		{"-A -t 1.2.3.4 -p -o", 2, "One-Packet Scheduling is only for UDP virtual services\n"},
		{"-A --sctp-service 1.2.3.4:5 -o", 2, "One-Packet Scheduling is only for UDP virtual services\n"},
		{"-A -u 1.2.3.4:53 -o", parses, ""},
		{"-A -f 1", parses, ""},
		{"-A -f 1 -o", parses, ""},
		{"-L -t 1.2.3.4", parses, ""},
		{"-D -t 1.2.3.4", parses, ""},
	})
}

// TestParseArgsRequests checks the requests of valid command lines: every
// default of §4.1 applied, and -E/-e full replacements (§4.2).
func TestParseArgsRequests(t *testing.T) {
	a := netip.MustParseAddr
	bits := optionSetOf
	svc := bits(optServiceAddress)
	server := bits(optServiceAddress, optRealServer)
	tcp80 := ipvs.Service{Family: ipvs.IPv4, Protocol: ipvs.TCP, Address: a("1.2.3.4"), Port: 80, Netmask: 0xffffffff}
	with := func(s ipvs.Service, f func(*ipvs.Service)) ipvs.Service {
		f(&s)
		return s
	}
	wlc := func(s *ipvs.Service) { s.Scheduler = "wlc" }
	dest := func(addr string, port uint16, f func(*ipvs.Destination)) ipvs.Destination {
		d := ipvs.Destination{Family: ipvs.IPv4, Address: a(addr), Port: port, Forwarding: ipvs.Route, Weight: 1}
		if a(addr).Is6() {
			d.Family = ipvs.IPv6
		}
		if f != nil {
			f(&d)
		}
		return d
	}
	for _, tt := range []struct {
		args string
		want request
	}{
		{"-A -t 1.2.3.4:80", request{command: cmdAddService, options: svc, service: with(tcp80, wlc)}},
		{"-E -t 1.2.3.4:80", request{command: cmdEditService, options: svc, service: with(tcp80, wlc)}},
		{"-A -t 1.2.3.4:80 -s rr -p", request{command: cmdAddService, options: bits(optServiceAddress, optScheduler, optPersistent),
			service: with(tcp80, func(s *ipvs.Service) { s.Scheduler, s.Flags, s.Timeout = "rr", ipvs.FlagPersistent, 360 })}},
		{"-A -t 1.2.3.4:80 -p 600 -M 24", request{command: cmdAddService, options: bits(optServiceAddress, optPersistent, optNetmask),
			service: with(tcp80, func(s *ipvs.Service) {
				s.Scheduler, s.Flags, s.Timeout, s.Netmask = "wlc", ipvs.FlagPersistent, 600, 0x18
			})}},
		{"-A -t 1.2.3.4:80 -p 600 -M 255.255.255.0", request{command: cmdAddService, options: bits(optServiceAddress, optPersistent, optNetmask),
			service: with(tcp80, func(s *ipvs.Service) {
				s.Scheduler, s.Flags, s.Timeout, s.Netmask = "wlc", ipvs.FlagPersistent, 600, 0xffffff00
			})}},
		{"-A -t 1.2.3.4:80 -s 0123456789abcdefXYZ --pe 0123456789abcdefXYZ", request{command: cmdAddService, options: bits(optServiceAddress, optScheduler, optPE),
			service: with(tcp80, func(s *ipvs.Service) { s.Scheduler, s.PersistenceEngine = "0123456789abcde", "0123456789abcdef" })}},
		{"-A -t 1.2.3.4:80 -s sh -b sh-fallback,sh-port", request{command: cmdAddService, options: bits(optServiceAddress, optScheduler, optSchedFlags),
			service: with(tcp80, func(s *ipvs.Service) { s.Scheduler, s.Flags = "sh", ipvs.FlagSched1|ipvs.FlagSched2 })}},
		{"-A -t 1.2.3.4:80 -b flag-3", request{command: cmdAddService, options: bits(optServiceAddress, optSchedFlags),
			service: with(tcp80, func(s *ipvs.Service) { s.Scheduler, s.Flags = "wlc", ipvs.FlagSched3 })}},
		{"-A -t 1.2.3.4:80 -b ,", request{command: cmdAddService, options: bits(optServiceAddress, optSchedFlags), service: with(tcp80, wlc)}},
		{"-A -u 1.2.3.4:domain -o", request{command: cmdAddService, options: bits(optServiceAddress, optOps),
			service: with(tcp80, func(s *ipvs.Service) {
				s.Protocol, s.Port, s.Scheduler, s.Flags = ipvs.UDP, 53, "wlc", ipvs.FlagOnePacket
			})}},
		{"-A --sctp-service www:sip", request{command: cmdAddService, options: svc,
			service: with(tcp80, func(s *ipvs.Service) {
				s.Protocol, s.Address, s.Port, s.Scheduler = ipvs.SCTP, a("192.0.2.10"), 5060, "wlc"
			})}},
		{"-A -t localhost:http", request{command: cmdAddService, options: svc,
			service: with(tcp80, func(s *ipvs.Service) { s.Address, s.Scheduler = a("127.0.0.1"), "wlc" })}},
		{"-A -t [2001:db8::1]:443 -p", request{command: cmdAddService, options: bits(optServiceAddress, optPersistent),
			service: ipvs.Service{Family: ipvs.IPv6, Protocol: ipvs.TCP, Address: a("2001:db8::1"), Port: 443, Scheduler: "wlc",
				Flags: ipvs.FlagPersistent, Timeout: 360, Netmask: 128}}},
		{"-A -t [2001:db8::1]:443 -p -M 64", request{command: cmdAddService, options: bits(optServiceAddress, optPersistent, optNetmask),
			service: ipvs.Service{Family: ipvs.IPv6, Protocol: ipvs.TCP, Address: a("2001:db8::1"), Port: 443, Scheduler: "wlc",
				Flags: ipvs.FlagPersistent, Timeout: 360, Netmask: 64}}},
		// A mark service has no protocol, address or port.
		{"-A -f 7", request{command: cmdAddService, options: svc,
			service: ipvs.Service{Family: ipvs.IPv4, FirewallMark: 7, Scheduler: "wlc", Netmask: 0xffffffff}}},
		// -6 makes it IPv6 with netmask 128, even after -M.
		{"-A -f 7 -p -M 255.0.0.0 -6", request{command: cmdAddService, options: bits(optServiceAddress, optPersistent, optNetmask),
			service: ipvs.Service{Family: ipvs.IPv6, FirewallMark: 7, Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 360, Netmask: 128}}},
		{"-A -f 7 -6 -p -M 96", request{command: cmdAddService, options: bits(optServiceAddress, optPersistent, optNetmask),
			service: ipvs.Service{Family: ipvs.IPv6, FirewallMark: 7, Scheduler: "wlc", Flags: ipvs.FlagPersistent, Timeout: 360, Netmask: 96}}},
		{"-D -t 1.2.3.4:80", request{command: cmdDeleteService, options: svc, service: tcp80}},
		// Servers: weight 1, -g, the service's port.
		{"-a -t 1.2.3.4:80 -r 10.0.0.2", request{command: cmdAddServer, options: server, service: tcp80, destination: dest("10.0.0.2", 80, nil)}},
		{"-a -t 1.2.3.4:80 -r 10.0.0.2:8080", request{command: cmdAddServer, options: server, service: tcp80, destination: dest("10.0.0.2", 80, nil)}},
		{"-e -t 1.2.3.4:80 -r 10.0.0.2:8080 -i", request{command: cmdEditServer, options: bits(optServiceAddress, optRealServer, optForwardingMethod),
			service: tcp80, destination: dest("10.0.0.2", 80, func(d *ipvs.Destination) { d.Forwarding = ipvs.Tunnel })}},
		{"-a -t 1.2.3.4:80 -r 10.0.0.2:8080 -m", request{command: cmdAddServer, options: bits(optServiceAddress, optRealServer, optForwardingMethod),
			service: tcp80, destination: dest("10.0.0.2", 8080, func(d *ipvs.Destination) { d.Forwarding = ipvs.Masquerade })}},
		{"-a -t 1.2.3.4:80 -r 10.0.0.2 -m", request{command: cmdAddServer, options: bits(optServiceAddress, optRealServer, optForwardingMethod),
			service: tcp80, destination: dest("10.0.0.2", 80, func(d *ipvs.Destination) { d.Forwarding = ipvs.Masquerade })}},
		// -r before -t knows no port yet.
		{"-a -r 10.0.0.2 -t 1.2.3.4:80 -m", request{command: cmdAddServer, options: bits(optServiceAddress, optRealServer, optForwardingMethod),
			service: tcp80, destination: dest("10.0.0.2", 0, func(d *ipvs.Destination) { d.Forwarding = ipvs.Masquerade })}},
		{"-a -r 10.0.0.2 -t 1.2.3.4:80", request{command: cmdAddServer, options: server, service: tcp80, destination: dest("10.0.0.2", 80, nil)}},
		{"-a -t 1.2.3.4:http -r localhost:ssh -m", request{command: cmdAddServer, options: bits(optServiceAddress, optRealServer, optForwardingMethod),
			service: tcp80, destination: dest("127.0.0.1", 22, func(d *ipvs.Destination) { d.Forwarding = ipvs.Masquerade })}},
		// -d keeps the port as given.
		{"-d -t 1.2.3.4:80 -r 10.0.0.2:8080", request{command: cmdDeleteServer, options: server, service: tcp80, destination: dest("10.0.0.2", 8080, nil)}},
		// Mark services keep the server's port, 0 when none.
		{"-a -f 7 -r 10.0.0.2", request{command: cmdAddServer, options: server,
			service: ipvs.Service{Family: ipvs.IPv4, FirewallMark: 7, Netmask: 0xffffffff}, destination: dest("10.0.0.2", 0, nil)}},
		{"-a -f 7 -r 10.0.0.2:http", request{command: cmdAddServer, options: server,
			service: ipvs.Service{Family: ipvs.IPv4, FirewallMark: 7, Netmask: 0xffffffff}, destination: dest("10.0.0.2", 80, nil)}},
		{"-e -t 1.2.3.4:80 -r [2001:db8::2]:99 -i -w 0 -x 100 -y 10 --tun-type gue --tun-port 6080 --tun-remcsum", request{command: cmdEditServer,
			options: bits(optServiceAddress, optRealServer, optForwardingMethod, optWeight, optUThreshold, optLThreshold, optTunType, optTunPort, optTunRemCsum),
			service: tcp80, destination: dest("2001:db8::2", 80, func(d *ipvs.Destination) {
				d.Forwarding, d.Weight, d.UpperThreshold, d.LowerThreshold = ipvs.Tunnel, 0, 100, 10
				d.TunnelType, d.TunnelPort, d.TunnelFlags = ipvs.GUE, 6080, ipvs.TunnelRemoteChecksum
			})}},
		{"-a -t 1.2.3.4:80 -r 10.0.0.2 -w 2147483647 -i --tun-type gre --tun-csum", request{command: cmdAddServer,
			options: bits(optServiceAddress, optRealServer, optWeight, optForwardingMethod, optTunType, optTunCsum),
			service: tcp80, destination: dest("10.0.0.2", 80, func(d *ipvs.Destination) {
				d.Forwarding, d.Weight, d.TunnelType, d.TunnelFlags = ipvs.Tunnel, 2147483647, ipvs.GRE, ipvs.TunnelChecksum
			})}},
		// Listing, zeroing.
		{"-L", request{command: cmdList}},
		{"-l -n --stats --exact", request{command: cmdList, options: bits(optNumeric, optStats, optExact)}},
		{"-L -t 1.2.3.4:80 --sort", request{command: cmdList, options: svc, service: tcp80}},
		{"-L -f 7 -6", request{command: cmdList, options: svc, service: ipvs.Service{Family: ipvs.IPv6, FirewallMark: 7, Netmask: 128}}},
		{"-Z", request{command: cmdZero}},
		{"-Z -t 0.0.0.0:0", request{command: cmdZero, options: svc,
			service: with(tcp80, func(s *ipvs.Service) { s.Address, s.Port = a("0.0.0.0"), 0 })}},
		{"-S -n", request{command: cmdSave, options: bits(optNumeric)}},
		{"-C", request{command: cmdFlush}},
		{"-R", request{command: cmdRestore}},
		// --set, daemons.
		{"--set 900 120 300", request{command: cmdSetTimeouts, timeouts: ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}}},
		{"0 +5 --set 030", request{command: cmdSetTimeouts, timeouts: ipvs.Timeouts{TCP: 0, TCPFin: 5 * time.Second, UDP: 30 * time.Second}}},
		{"--start-daemon master", request{command: cmdStartDaemon, daemon: ipvs.Daemon{State: ipvs.Master, Interface: "eth0"}}},
		{"--start-daemon backup --mcast-interface 0123456789abcdefXYZ --syncid 7 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 3",
			request{command: cmdStartDaemon, options: bits(optMcastInterface, optSyncID, optSyncMaxlen, optMcastGroup, optMcastPort, optMcastTTL),
				daemon: ipvs.Daemon{State: ipvs.Backup, Interface: "0123456789abcde", SyncID: 7, MaxLength: 1400, Group: a("239.1.2.3"), Port: 9000, TTL: 3}}},
		{"--start-daemon master --mcast-group ff02::1234", request{command: cmdStartDaemon, options: bits(optMcastGroup),
			daemon: ipvs.Daemon{State: ipvs.Master, Interface: "eth0", Group: a("ff02::1234")}}},
		{"--stop-daemon backup --syncid 9", request{command: cmdStopDaemon, options: bits(optSyncID), daemon: ipvs.Daemon{State: ipvs.Backup, SyncID: 9}}},
	} {
		got, ex := parseArgs(append([]string{"ipvsadm"}, strings.Fields(tt.args)...), grammarNames)
		if ex != nil {
			t.Errorf("ipvsadm %s: %+v", tt.args, ex)
			continue
		}
		if diff := cmp.Diff(&tt.want, got, cmp.AllowUnexported(request{}), cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
			t.Errorf("ipvsadm %s (-want +got):\n%s", tt.args, diff)
		}
	}
}

// TestParseArgsAllocations keeps the parser cheap for -R, which runs it
// once per line: a typical server line allocates only the request.
func TestParseArgsAllocations(t *testing.T) {
	args := strings.Fields("ipvsadm -a -t 192.0.2.10:80 -r 10.0.0.11:80 -m -w 3")
	n := testing.AllocsPerRun(100, func() {
		if _, ex := parseArgs(args, grammarNames); ex != nil {
			t.Fatal(ex)
		}
	})
	if n > 1 {
		t.Errorf("parseArgs allocates %v times, want at most 1", n)
	}
}
