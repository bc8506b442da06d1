package compat_test

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// The fuzz tests of the two parsers of untrusted text in compat: the
// command line (which also reads every restore line) and
// /proc/net/ip_vs_conn. Seeds are the golden scenarios' command lines and
// restore inputs, the reference's error catalogue and kernel-written
// connection tables; go test adds the inputs under testdata/fuzz/, where
// an input that once failed stays as a regression test.

// fuzzArgs splits a fuzz input into argv after the program name: at NUL
// bytes if it has any, else at every single space (so "-b  x" has an empty
// argument between). The corpus then reads as command lines, and any argv
// can still be written.
func fuzzArgs(s string) []string {
	if strings.IndexByte(s, 0) >= 0 {
		return strings.Split(s, "\x00")
	}
	return strings.Split(s, " ")
}

// fuzzInput is the fuzz input fuzzArgs splits into args.
func fuzzInput(args []string) string {
	for _, a := range args {
		if a == "" || strings.Contains(a, " ") {
			return strings.Join(args, "\x00")
		}
	}
	return strings.Join(args, " ")
}

// commandSeeds are the command lines of the golden scenarios, after the
// program name: every ipvsadm step, and every line of every restore input.
func commandSeeds(t testing.TB) []string {
	var seeds []string
	for _, sc := range testenv.Scenarios(t) {
		for _, st := range sc.Steps {
			if st.Args[0] == "ipvsadm" {
				seeds = append(seeds, fuzzInput(st.Args[1:]))
			}
			for line := range strings.Lines(string(st.Stdin)) {
				if tokens := compat.SplitLine(line); len(tokens) > 0 {
					seeds = append(seeds, fuzzInput(tokens))
				}
			}
		}
	}
	return append(seeds, compat.ErrorCatalogue()...)
}

// FuzzParseArgs holds the command-line grammar to its contract for any argv:
// a request, or how ipvsadm ends (-h and -v on stdout with status 0, a
// message on stderr with status 2 or 255), never a panic; the same answer
// twice; and, for the restore line the same words make, a write whose -S
// line parses back to the same write, as far as -S says it.
func FuzzParseArgs(f *testing.F) {
	for _, s := range commandSeeds(f) {
		f.Add(s)
	}
	names := testenv.GoldenNames(f)
	f.Fuzz(func(t *testing.T, s string) {
		args := append([]string{"ipvsadm"}, fuzzArgs(s)...)
		got := compat.ParseArgs(args, names)
		checkParseOutcome(t, args, got)
		if again := compat.ParseArgs(args, names); !cmp.Equal(got, again, equateAddr) {
			t.Errorf("%q: a second parse differs (-first +second):\n%s", args, cmp.Diff(got, again, equateAddr))
		}
		checkRuleRoundTrip(t, compat.SplitLine(strings.Join(args[1:], " ")), names)
	})
}

var equateAddr = cmpopts.EquateComparable(netip.Addr{})

// checkParseOutcome checks what holds for every outcome of the grammar.
func checkParseOutcome(t *testing.T, args []string, o compat.ParseOutcome) {
	t.Helper()
	if !o.Parsed {
		switch {
		case o.Status == 0 && (o.Stdout == "" || o.Stderr != ""):
			t.Errorf("%q: status 0 with stdout %q, stderr %q; want -h or -v's text on stdout only", args, o.Stdout, o.Stderr)
		case o.Status != 0 && o.Status != 2 && o.Status != 255:
			t.Errorf("%q: status %d; ipvsadm's grammar ends with 0, 2 or 255", args, o.Status)
		case o.Status != 0 && (o.Stdout != "" || !strings.HasSuffix(o.Stderr, "\n") || len(o.Stderr) < 2):
			t.Errorf("%q: status %d with stdout %q, stderr %q; want a message on stderr only", args, o.Status, o.Stdout, o.Stderr)
		case o.LineFails && (o.Status != 255 || strings.HasPrefix(o.Stderr, "Try `")):
			t.Errorf("%q: %q (status %d) fails only its restore line; only popt's errors do", args, o.Stderr, o.Status)
		}
		return
	}
	if o.Status != 0 || o.Stdout != "" || o.Stderr != "" {
		t.Errorf("%q: a request with an exit: status %d, stdout %q, stderr %q", args, o.Status, o.Stdout, o.Stderr)
	}
	has := func(option string) bool { return slices.Contains(o.Options, option) }
	s, d := &o.Service, &o.Destination
	if has("service-address") {
		checkService(t, args, o.Command, s)
	} else if *s != (ipvs.Service{}) {
		t.Errorf("%q: %s without a service has service %+v", args, o.Command, *s)
	}
	if has("real-server") {
		checkDestination(t, args, o.Command, s, d)
	} else if *d != (ipvs.Destination{}) {
		t.Errorf("%q: %s without a real server has destination %+v", args, o.Command, *d)
	}
	switch o.Command {
	case "start-daemon", "stop-daemon":
		if o.Daemon.State != ipvs.Master && o.Daemon.State != ipvs.Backup {
			t.Errorf("%q: daemon state %v", args, o.Daemon.State)
		}
		if o.Command == "start-daemon" && (o.Daemon.Interface == "" || len(o.Daemon.Interface) > 15) {
			t.Errorf("%q: daemon interface %q", args, o.Daemon.Interface)
		}
	default:
		if o.Daemon != (ipvs.Daemon{}) {
			t.Errorf("%q: %s has daemon %+v", args, o.Command, o.Daemon)
		}
	}
}

// checkService checks the service of a request: a shape the library
// accepts, and ipvsadm's defaults and checks applied.
func checkService(t *testing.T, args []string, command string, s *ipvs.Service) {
	t.Helper()
	switch {
	case s.FirewallMark != 0:
		if s.Address.IsValid() || s.Port != 0 || s.Protocol != 0 || (s.Family != ipvs.IPv4 && s.Family != ipvs.IPv6) {
			t.Errorf("%q: firewall-mark service %+v", args, *s)
		}
	case !s.Address.IsValid():
		t.Errorf("%q: service %+v has neither an address nor a mark", args, *s)
	case s.Address.Is6() != (s.Family == ipvs.IPv6) || s.Address.Zone() != "":
		t.Errorf("%q: service address %v in family %v", args, s.Address, s.Family)
	case s.Protocol != ipvs.TCP && s.Protocol != ipvs.UDP && s.Protocol != ipvs.SCTP:
		t.Errorf("%q: service protocol %v", args, s.Protocol)
	}
	if s.Family == ipvs.IPv6 && (s.Netmask < 1 || s.Netmask > 128) {
		t.Errorf("%q: IPv6 service netmask %d", args, s.Netmask)
	}
	if command != "add-service" && command != "edit-service" {
		return
	}
	persistent := s.Flags&ipvs.FlagPersistent != 0
	switch {
	case s.Scheduler == "" || len(s.Scheduler) > 15:
		t.Errorf("%q: scheduler %q", args, s.Scheduler)
	case len(s.PersistenceEngine) > 16:
		t.Errorf("%q: persistence engine %q", args, s.PersistenceEngine)
	case persistent && (s.Timeout < 1 || s.Timeout > 86400*31), !persistent && s.Timeout != 0:
		t.Errorf("%q: persistence %v, timeout %d", args, persistent, s.Timeout)
	case !persistent && s.FirewallMark == 0 && s.Port == 0:
		t.Errorf("%q: a non-persistent service on port 0", args)
	case s.Flags&ipvs.FlagOnePacket != 0 && s.FirewallMark == 0 && s.Protocol != ipvs.UDP:
		t.Errorf("%q: one-packet scheduling for %v", args, s.Protocol)
	case s.Flags&ipvs.FlagHashed != 0:
		t.Errorf("%q: the kernel's flag hashed set", args)
	}
}

// checkDestination checks the destination of a request of service s.
func checkDestination(t *testing.T, args []string, command string, s *ipvs.Service, d *ipvs.Destination) {
	t.Helper()
	if !d.Address.IsValid() || d.Address.Is6() != (d.Family == ipvs.IPv6) || d.Address.Zone() != "" {
		t.Errorf("%q: destination address %v in family %v", args, d.Address, d.Family)
	}
	if command != "add-server" && command != "edit-server" {
		return
	}
	tunnel := d.Forwarding == ipvs.Tunnel
	switch {
	case d.Forwarding != ipvs.Masquerade && d.Forwarding != ipvs.Route && !tunnel:
		t.Errorf("%q: forwarding %v", args, d.Forwarding)
	case d.Weight < 0:
		t.Errorf("%q: weight %d", args, d.Weight)
	case d.Family != s.Family && !tunnel:
		t.Errorf("%q: a %v server of a %v service by %v", args, d.Family, s.Family, d.Forwarding)
	case !tunnel && (d.TunnelType != 0 || d.TunnelPort != 0 || d.TunnelFlags != 0):
		t.Errorf("%q: tunnel options %v %d %v by %v", args, d.TunnelType, d.TunnelPort, d.TunnelFlags, d.Forwarding)
	case s.FirewallMark == 0 && d.Forwarding != ipvs.Masquerade && d.Port != s.Port:
		t.Errorf("%q: %v changes the port from %d to %d", args, d.Forwarding, s.Port, d.Port)
	}
}

// checkRuleRoundTrip parses tokens as a restore line: a line ipvsadm refuses
// is a Failure with its message and status, or ErrNotRule; a write, written
// as -S writes it (compat.AppendRule) and read again, is the same write as
// far as -S can say it (savedWrite: both sides are compared so, which
// holds as well if AppendRule comes to say more), and writing that again
// gives the same line.
func checkRuleRoundTrip(t *testing.T, tokens []string, names compat.Names) {
	t.Helper()
	op, err := compat.ParseRule(tokens, names)
	if err != nil {
		var failure *compat.Failure
		switch {
		case errors.As(err, &failure):
			if failure.Status != 2 && failure.Status != 255 || !strings.HasSuffix(failure.Message, "\n") || len(failure.Message) < 2 {
				t.Errorf("restore line %q: failure status %d, message %q", tokens, failure.Status, failure.Message)
			}
		case !errors.Is(err, compat.ErrNotRule):
			t.Errorf("restore line %q: %v; want a *Failure or ErrNotRule", tokens, err)
		}
		return
	}
	if !restorableNames(op.Service) {
		return
	}
	line := string(compat.AppendRule(nil, op))
	again, err := compat.ParseRule(compat.SplitLine(line), names)
	want, readable := savedWrite(op)
	switch {
	case err != nil && readable:
		t.Fatalf("restore line %q parses; its -S line %q does not: %v", tokens, line, err)
	case err != nil:
		return
	}
	got, _ := savedWrite(again)
	if diff := cmp.Diff(want, got, equateAddr); diff != "" {
		t.Errorf("restore line %q, written %q, reads back as another write (-want +got):\n%s", tokens, line, diff)
	}
	if again := string(compat.AppendRule(nil, again)); again != line {
		t.Errorf("restore line %q is written %q, and read and written again %q", tokens, line, again)
	}
}

// restorableNames tells whether the scheduler and persistence engine, the
// two names a restore line takes as they are, can be read back from an -S
// line: the restore drops the word "ipvsadm" wherever it stands, and popt
// replaces "!#:+" in an option's argument with a later argument. Neither
// name is one the kernel has.
func restorableNames(s ipvs.Service) bool {
	for _, name := range []string{s.Scheduler, s.PersistenceEngine} {
		if name == "ipvsadm" || strings.Contains(name, "!#:+") {
			return false
		}
	}
	return true
}

// savedWrite is op as its -S line says it (reference §5.11), and whether
// that line must be readable. -S writes no thresholds, a netmask only with
// persistence, and of the scheduler flags only those it has a name for (sh
// and mh name two of three); it writes "-b" whenever a flag is set, so when
// none has a name the option lacks its argument and the line may be
// refused ("-b: missing argument"), as 1.31's own -S line is.
func savedWrite(op ipvs.Op) (ipvs.Op, bool) {
	s, d := &op.Service, &op.Destination
	if s.Flags&ipvs.FlagPersistent == 0 && op.Command != ipvs.CmdFlush {
		s.Netmask = 0xffffffff
		if s.Family == ipvs.IPv6 {
			s.Netmask = 128
		}
	}
	const schedFlags = ipvs.FlagSched1 | ipvs.FlagSched2 | ipvs.FlagSched3
	flagged := s.Flags&schedFlags != 0
	if s.Scheduler == "sh" || s.Scheduler == "mh" {
		s.Flags &^= ipvs.FlagSched3
	}
	d.UpperThreshold, d.LowerThreshold = 0, 0
	return op, !flagged || s.Flags&schedFlags != 0
}

// connectionSeeds are /proc/net/ip_vs_conn as the kernel writes it
// (ip_vs_conn_seq_show: "%-3s %08X %04X ... %-11s %7lu%s"), IPv4 and IPv6,
// with the header line the listing skips.
var connectionSeeds = []string{
	compat.SampleConnections,
	connHeader,
	connHeader + "TCP C0A80001 C350 0A000001 0050 0A000101 0050 ESTABLISHED     899\n" +
		"TCP C0A80002 C351 0A000001 0050 0A000102 0050 FIN_WAIT         119\n" +
		"UDP C0A80003 8AE1 0A000002 0035 0A000201 0035 UDP              299\n" +
		"SCTP C0A80004 0B59 0A000003 0B59 0A000301 0B59 ESTABLISHED     899\n" +
		"IP  C0A80001 0000 00000001 0000 0A000101 0000 NONE             359\n" +
		"TCP C0A80001 0000 0A000001 0050 0A000101 0050 NONE             359\n",
	connHeader + "TCP 2001:0db8:0000:0000:0000:0000:0000:0001 C350 2001:0db8:0000:0000:0000:0000:0001:0001 01BB " +
		"2001:0db8:0000:0000:0000:0000:0002:0001 01BB ESTABLISHED     899\n" +
		"UDP 2001:0db8:0000:0000:0000:0000:0000:0002 8AE1 2001:0db8:0000:0000:0000:0000:0001:0001 0035 " +
		"0A000201 0035 UDP              299\n",
	connHeader + "UDP C0A80005 13C4 0A000001 13C4 0A000101 13C4 UDP             179 sip 3848276298@192.0.2.200\n",
	"",
	connHeader + "\n",
	connHeader + "TCP C0A80001 C350 0A000001 0050 0A000101 0050 ESTABLISHED",
	// Past the 4096 bytes the reader buffers at once.
	connHeader + strings.Repeat("TCP C0A80001 C350 0A000001 0050 0A000101 0050 ESTABLISHED     899\n", 70),
}

const connHeader = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"

// FuzzConnections holds -L -c to ipvsadm's reading of any
// /proc/net/ip_vs_conn: fgets of 255 bytes at a time, the first of which is
// the header; then one row per read until the end (status 0), or until a
// read that is blank to sscanf (status 1, silently); an empty file is status
// 1 with a message. Never a panic, in every format.
func FuzzConnections(f *testing.F) {
	for _, s := range connectionSeeds {
		f.Add([]byte(s))
	}
	names := testenv.GoldenNames(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		reads := fgets(data)
		wantStatus, wantRows := 0, len(reads)-1
		if len(reads) == 0 {
			wantStatus, wantRows = 1, 0
		}
		for i := 1; i < len(reads); i++ {
			if blank(reads[i]) {
				wantStatus, wantRows = 1, i-1
				break
			}
		}
		for _, format := range []struct{ numeric, persistentConn bool }{{true, false}, {false, false}, {true, true}} {
			var out bytes.Buffer
			status, stderr := compat.WriteConnections(&out, bytes.NewReader(data), format.numeric, format.persistentConn, names)
			wantStderr := ""
			if len(reads) == 0 {
				wantStderr = "unexpected input from /proc/net/ip_vs_conn\n"
			}
			if status != wantStatus || stderr != wantStderr {
				t.Errorf("%+v: status %d, stderr %q; want %d, %q", format, status, stderr, wantStatus, wantStderr)
			}
			lines := strings.SplitAfter(out.String(), "\n")
			if lines[len(lines)-1] != "" {
				t.Fatalf("%+v: the listing ends without a newline: %q", format, out.String())
			}
			rows := len(lines) - 1 - 2 // the last is the empty rest; two title lines
			if len(reads) == 0 {
				rows = len(lines) - 1
			}
			if rows != wantRows {
				t.Errorf("%+v: %d rows for %d reads after the header, want %d:\n%s", format, rows, len(reads)-1, wantRows, out.String())
			}
		}
	})
}

// fgets splits data as fgets(buf, 256, f) reads it: up to 255 bytes, ending
// after a newline if there is one in them.
func fgets(data []byte) [][]byte {
	var reads [][]byte
	for len(data) > 0 {
		n := min(len(data), compat.ConnLineMax)
		if i := bytes.IndexByte(data[:n], '\n'); i >= 0 {
			n = i + 1
		}
		reads = append(reads, data[:n])
		data = data[n:]
	}
	return reads
}

// blank tells whether sscanf finds nothing in a read: white space up to
// its end or a NUL byte.
func blank(read []byte) bool {
	if i := bytes.IndexByte(read, 0); i >= 0 {
		read = read[:i]
	}
	return len(bytes.TrimLeft(read, " \t\n\v\f\r")) == 0
}
