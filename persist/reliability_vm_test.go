//go:build linux

package persist_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// The tests in this file run in the VM (make vmtest), on the real kernel,
// our commands (/usr/local/sbin) beside the reference ipvsadm 1.31
// ($IPVSADM_REFERENCE_DIR): hostile input, a user who is not root, other
// processes writing the table meanwhile, a save killed half-way, a link
// planted by another user. Each runs in a network namespace of its own,
// which the test's goroutine enters; the commands it starts inherit it.

const oursDir = "/usr/local/sbin"

// nobody is the unprivileged user of the VM.
const nobody = 65534

// A vmWorld is a test's network namespace and the two sides.
type vmWorld struct {
	t      *testing.T
	refDir string
	// enter moves the calling goroutine, locked to its thread for good,
	// into the namespace.
	enter func() error
}

// newVMWorld skips outside the VM, and otherwise moves the calling
// goroutine, locked to its thread, into a new network namespace with lo
// up, for the rest of the test.
func newVMWorld(t *testing.T) *vmWorld {
	if os.Getenv("IPVS_VM") == "" {
		t.Skip("skipped: runs the reference and ours on the real kernel, only in the VM (make vmtest)")
	}
	w := &vmWorld{t: t, refDir: os.Getenv("IPVSADM_REFERENCE_DIR")}
	if w.refDir == "" {
		t.Fatal("IPVSADM_REFERENCE_DIR is not set")
	}
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	ns, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ns.Close()
		if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Errorf("back to the first namespace: %v", err)
			return // the thread stays locked, and dies with the goroutine
		}
		home.Close()
		runtime.UnlockOSThread()
	})
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	nsPath := fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), ns.Fd())
	w.enter = func() error {
		f, err := os.Open(nsPath)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.LockOSThread()
		return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
	}
	return w
}

// An outcome is what a command printed and returned.
type outcome struct {
	Status         int
	Stdout, Stderr string
}

// run runs args[0] of side ("ours" or "reference") with stdin, as uid (0
// for root), with argv[0] the bare name as a shell would give it.
func (w *vmWorld) run(side string, stdin []byte, uid int, args ...string) outcome {
	w.t.Helper()
	dir := oursDir
	if side == "reference" {
		dir = w.refDir
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(dir, args[0]), args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = []string{"PATH=" + dir + ":/usr/sbin:/usr/bin:/sbin:/bin"}
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	o := outcome{}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			w.t.Fatalf("%s %v: %v", side, args, err)
		}
		o.Status = exit.ExitCode()
	}
	o.Stdout, o.Stderr = stdout.String(), stderr.String()
	return o
}

// ref runs the reference ipvsadm as root; it must succeed silently.
func (w *vmWorld) ref(stdin string, args ...string) string {
	w.t.Helper()
	o := w.run("reference", []byte(stdin), 0, append([]string{"ipvsadm"}, args...)...)
	if o.Status != 0 || o.Stderr != "" {
		w.t.Fatalf("reference ipvsadm %v: status %d: %s", args, o.Status, o.Stderr)
	}
	return o.Stdout
}

// table is the table as the reference saves it, counters apart.
func (w *vmWorld) table() string { return w.ref("", "-Sn") }

// load makes the table rules, with the reference.
func (w *vmWorld) load(rules string) {
	w.t.Helper()
	w.ref("", "-C")
	w.ref(rules, "-R")
}

// fixture is the table every bad input meets.
const fixture = "-A -t 10.0.0.1:80 -s rr\n" +
	"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n" +
	"-A -u [2001:db8::1]:53 -s wlc -p 60\n" +
	"-a -u [2001:db8::1]:53 -r [2001:db8::10]:53 -g -w 2\n" +
	"-A -f 7 -s sh -b sh-port\n"

// A badInput is a command and its standard input.
type badInput struct {
	name  string
	args  []string
	stdin []byte
}

// badInputs are the commands with hostile arguments or input that both
// sides get: addresses, ports, schedulers, weights, thresholds, flag
// combinations, restore input with bad lines, binary garbage, long lines
// and tokens, and a file of a million lines.
func badInputs() []badInput {
	argv := [][]string{
		{"-A", "-t", "10.0.0.256:80"}, {"-A", "-t", "10.0.0.1:65536"}, {"-A", "-t", "10.0.0.1:-1"},
		{"-A", "-t", "[::1:80"}, {"-A", "-t", "::1]:80"}, {"-A", "-t", ":80"}, {"-A", "-t", "10.0.0.1:"},
		{"-A", "-t", "10.0.0.1:0x50"}, {"-A", "-t", "010.0.0.1:80"}, {"-A", "-t", "1.2.3:80"},
		{"-A", "-t", "nosuch.invalid:80"}, {"-A", "-t", "10.0.0.2:nosuchport"}, {"-A", "-u", "[fe80::1%lo]:53"},
		{"-A", "-t", "10.0.0.2:80", "-s", "nosuch"}, {"-A", "-t", "10.0.0.2:80", "-s", strings.Repeat("r", 100)},
		{"-A", "-t", "10.0.0.2:80", "-s", ""}, {"-A", "-t", "10.0.0.1:80"}, {"-E", "-t", "10.0.0.9:80"},
		{"-A", "-t", "10.0.0.2:80", "-p", "-1"}, {"-A", "-t", "10.0.0.2:80", "-p", "4294967296"},
		{"-A", "-t", "10.0.0.2:80", "-p", "10", "-M", "255.0.255.0"}, {"-A", "-t", "10.0.0.2:80", "-M", "24"},
		{"-A", "-u", "[2001:db8::2]:53", "-p", "-M", "129"}, {"-A", "-u", "[2001:db8::2]:53", "-p", "-M", "255.255.255.0"},
		{"-A", "-t", "10.0.0.2:80", "-s", "rr", "-b", "flag-1,nosuch"}, {"-A", "-t", "10.0.0.2:80", "-s", "sh", "-b", ""},
		{"-A", "-t", "10.0.0.2:80", "--pe", "nosuch"}, {"-A", "-f", "0"}, {"-A", "-f", "4294967296"},
		{"-A", "-f", "1", "-t", "10.0.0.2:80"}, {"-A", "-6", "-t", "10.0.0.2:80"},
		{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "-1"}, {"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "2147483648"},
		{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-w", "x"}, {"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-x", "-1"},
		{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-y", "4294967296"}, {"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-x", "10", "-y", "20"},
		{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-g", "-m"}, {"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.1:80"},
		{"-a", "-t", "10.0.0.9:80", "-r", "10.0.1.2"}, {"-a", "-t", "10.0.0.1:80", "-r", "224.0.0.1"},
		{"-a", "-t", "10.0.0.1:80", "-r", "[2001:db8::5]:80", "-m"}, {"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-i", "--tun-type", "gue"},
		{"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "-i", "--tun-type", "nosuch"}, {"-a", "-t", "10.0.0.1:80", "-r", "10.0.1.2", "--tun-port", "80"},
		{"-e", "-t", "10.0.0.1:80", "-r", "10.0.1.9"}, {"-d", "-t", "10.0.0.1:80", "-r", "10.0.1.9"}, {"-D", "-f", "8"},
		{"--set", "-1", "0", "0"}, {"--set", "x", "0", "0"}, {"--set", "1", "2"}, {"--set", "4294967296", "0", "0"},
		{"--start-daemon", "nosuch"}, {"--start-daemon", "master", "--mcast-interface", strings.Repeat("e", 40)},
		{"--start-daemon", "master", "--syncid", "256"}, {"--stop-daemon", "backup"},
		{"-L", "--nosuch"}, {"-L", "-t", "10.0.0.9:80"}, {"-Ln", "-c", "-t", "10.0.0.1:80"}, {"-Z", "-t", "10.0.0.9:80"},
		{"\xff\xfe"}, {"-"}, {"--"}, {""}, {strings.Repeat("A", 5000)}, {"-A", "-t", strings.Repeat("1", 4097) + ":80"},
		{"-A", "-t", "10.0.0.2:80", "extra"}, {"-C", "-t", "10.0.0.1:80"}, {"-R", "extra"}, {"-S", "-c"},
	}
	var inputs []badInput
	for _, a := range argv {
		inputs = append(inputs, badInput{name: strings.Join(a, " "), args: append([]string{"ipvsadm"}, a...)})
	}

	restore := func(name, stdin string) {
		inputs = append(inputs, badInput{name: "-R: " + name, args: []string{"ipvsadm", "-R"}, stdin: []byte(stdin)})
		inputs = append(inputs, badInput{name: "ipvsadm-restore: " + name, args: []string{"ipvsadm-restore"}, stdin: []byte(stdin)})
	}
	restore("a bad scheduler mid-file", "-A -t 10.0.0.2:80 -s rr\n-A -t 10.0.0.3:80 -s nosuch\n-A -t 10.0.0.4:80 -s rr\n")
	restore("a popt error mid-file", "-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r\n-A -t 10.0.0.4:80\n")
	restore("a fail() error mid-file", "-A -t 10.0.0.2:80\n-A -t 10.0.0.3:0\n-A -t 10.0.0.4:80\n")
	restore("a comment line", "-A -t 10.0.0.2:80\n# a comment\n-A -t 10.0.0.4:80\n")
	restore("CRLF and a last line ending in blanks", "-A -t 10.0.0.2:80\r\n-A -t 10.0.0.3:80 \t")
	restore("a token over 4 KiB", "-A -t 10.0.0.2:80 -s "+strings.Repeat("r", 5000)+"\n-A -t 10.0.0.4:80\n")
	restore("a line over 4 KiB", "-A -t 10.0.0.2:80"+strings.Repeat(" ", 5000)+"-s wlc\n-A -t 10.0.0.4:80\n")
	rnd := rand.New(rand.NewPCG(6, 6))
	for i := range 3 {
		garbage := make([]byte, 4096)
		for j := range garbage {
			garbage[j] = byte(rnd.IntN(256))
		}
		restore(fmt.Sprintf("binary garbage %d", i+1), string(garbage))
	}
	// A million lines, nearly all blank (skipped without a write), some
	// of them services, and a refused one at the end.
	var million strings.Builder
	for i := range 1_000_000 {
		switch {
		case i%100_000 == 99_999:
			fmt.Fprintf(&million, "-A -t 10.200.%d.1:80 -s rr\n", i/100_000)
		case i == 999_998:
			million.WriteString("-A -t 10.0.0.1:80 -s rr\n")
		default:
			million.WriteString(" \t\n")
		}
	}
	restore("a million lines", million.String())
	return inputs
}

// TestBadInputsAsTheReference gives each bad input to the reference and
// to ours, each time on the fixture table, and wants the same output, exit
// status and resulting table.
func TestBadInputsAsTheReference(t *testing.T) {
	w := newVMWorld(t)
	inputs := badInputs()
	for _, in := range inputs {
		var got [2]outcome
		var tables [2]string
		for i, side := range []string{"reference", "ours"} {
			w.load(fixture)
			got[i] = w.run(side, in.stdin, 0, in.args...)
			tables[i] = w.table()
		}
		// The wrappers' bash names its script by its path.
		got[0].Stderr = strings.ReplaceAll(got[0].Stderr, w.refDir+"/", oursDir+"/")
		if diff := cmp.Diff(got[0], got[1]); diff != "" {
			t.Errorf("%s: outcome (-reference +ours):\n%s", in.name, diff)
		}
		if diff := cmp.Diff(tables[0], tables[1]); diff != "" {
			t.Errorf("%s: table after (-reference +ours):\n%s", in.name, diff)
		}
	}
	t.Logf("%d bad inputs, each the same for the reference and ours", len(inputs))
}

// TestBadInputsChangeNothingAtomically: our --atomic and --sync refuse
// bad input before they write anything (counted in the kernel), and when
// the kernel refuses a write half-way, they leave the table as it was.
func TestBadInputsChangeNothingAtomically(t *testing.T) {
	w := newVMWorld(t)
	dir := t.TempDir()
	var big strings.Builder
	// 100,000 rules, then 900,000 comments, then a line ipvsadm refuses.
	for i := range 25_000 {
		fmt.Fprintf(&big, "-A -t 10.%d.%d.%d:80 -s wlc\n", 100+i/62500, i/250%250, i%250)
		for j := range 3 {
			fmt.Fprintf(&big, "-a -t 10.%d.%d.%d:80 -r 10.250.%d.%d:8080 -m -w %d\n", 100+i/62500, i/250%250, i%250, j, i%250, j+1)
		}
	}
	for range 900_000 {
		big.WriteString("# a comment\n")
	}
	big.WriteString("-A -t 10.0.0.9:0\n")
	var garbage strings.Builder
	rnd := rand.New(rand.NewPCG(7, 7))
	for range 4096 {
		garbage.WriteByte(byte(rnd.IntN(256)))
	}
	tests := []struct {
		name, input string
		wantLine    string // the message's first line names it
		wantWrites  bool   // the kernel is what refuses
	}{
		{"a bad port mid-file", "-A -t 10.0.0.2:80\n-A -t 10.0.0.3:0\n-A -t 10.0.0.4:80\n", "line 2 of", false},
		{"a server of no service", "-A -t 10.0.0.2:80\n-a -t 10.0.0.3:80 -r 10.0.1.1\n", "line 2 of", false},
		{"a listing line", "-A -t 10.0.0.2:80\n-L -n\n", "line 2 of", false},
		{"binary garbage", garbage.String(), "line ", false},
		{"a line over 64 KiB", "-A -t 10.0.0.2:80" + strings.Repeat(" ", 70_000) + "\n", "line 1 of", false},
		{"a million lines", big.String(), "line 1000001 of", false},
		{"a scheduler the kernel has not", "-A -t 10.0.0.2:80 -s rr\n-a -t 10.0.0.2:80 -r 10.0.1.5\n-A -t 10.0.0.3:80 -s nosuch\n", "line 3 of", true},
	}
	for _, tt := range tests {
		file := filepath.Join(dir, "rules")
		if err := os.WriteFile(file, []byte(tt.input), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"--atomic", "--sync"} {
			w.load(fixture)
			before := w.ref("", "-Ln", "--stats", "--exact")
			var o outcome
			writes := testenv.CountIPVSWrites(t, func() { o = w.run("ours", nil, 0, "ipvsadm-restore", mode, file) })
			first, _, _ := strings.Cut(o.Stderr, "\n")
			if o.Status == 0 || !strings.Contains(first, tt.wantLine) {
				t.Errorf("%s, %s: status %d, stderr %.300q; want a failure naming %q", tt.name, mode, o.Status, o.Stderr, tt.wantLine)
			}
			if !tt.wantWrites && writes != 0 {
				t.Errorf("%s, %s: %d writes reached the kernel, want none", tt.name, mode, writes)
			}
			if diff := cmp.Diff(before, w.ref("", "-Ln", "--stats", "--exact")); diff != "" {
				t.Errorf("%s, %s: table changed (-before +after):\n%s", tt.name, mode, diff)
			}
			t.Logf("%s, %s: status %d, %d writes, %s", tt.name, mode, o.Status, writes, first)
		}
	}
}

// TestNotRootAsTheReference runs every kind of command as a user who is
// not root: the same messages and statuses as the reference, and nothing
// changes (no write reaches the kernel). Our own options fail as plainly.
func TestNotRootAsTheReference(t *testing.T) {
	w := newVMWorld(t)
	w.load(fixture)
	before := w.table()
	dir := sharedDir(t)
	rulesFile := filepath.Join(dir, "rules")
	if err := os.WriteFile(rulesFile, []byte("-A -t 10.0.0.5:80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	both := []badInput{
		{args: []string{"ipvsadm"}}, {args: []string{"ipvsadm", "-Ln"}}, {args: []string{"ipvsadm", "-Sn"}},
		{args: []string{"ipvsadm", "-Ln", "--stats"}}, {args: []string{"ipvsadm", "-L", "--timeout"}},
		{args: []string{"ipvsadm", "-L", "--daemon"}}, {args: []string{"ipvsadm", "-Lnc"}},
		{args: []string{"ipvsadm", "-A", "-t", "10.0.0.5:80"}}, {args: []string{"ipvsadm", "-E", "-t", "10.0.0.1:80", "-s", "wrr"}},
		{args: []string{"ipvsadm", "-D", "-t", "10.0.0.1:80"}}, {args: []string{"ipvsadm", "-a", "-t", "10.0.0.1:80", "-r", "10.0.1.7"}},
		{args: []string{"ipvsadm", "-d", "-t", "10.0.0.1:80", "-r", "10.0.1.1"}}, {args: []string{"ipvsadm", "-C"}},
		{args: []string{"ipvsadm", "-Z"}}, {args: []string{"ipvsadm", "--set", "1", "2", "3"}},
		{args: []string{"ipvsadm", "--start-daemon", "master"}}, {args: []string{"ipvsadm", "--stop-daemon", "master"}},
		// Not -h and -v: 1.31 opens IPVS first, so they fail for a
		// user who may not; ours need no kernel (README, differences).
		{args: []string{"ipvsadm", "-R"}, stdin: []byte("-A -t 10.0.0.5:80\n")}, {args: []string{"ipvsadm", "-A", "-t", "10.0.0.5:0"}},
		{args: []string{"ipvsadm-save"}}, {args: []string{"ipvsadm-save", "-n"}},
		{args: []string{"ipvsadm-restore"}, stdin: []byte("-A -t 10.0.0.5:80\n")},
	}
	var compared int
	writes := testenv.CountIPVSWrites(t, func() {
		for _, in := range both {
			ref := w.run("reference", in.stdin, nobody, in.args...)
			ours := w.run("ours", in.stdin, nobody, in.args...)
			if diff := cmp.Diff(ref, ours); diff != "" {
				t.Errorf("%v as nobody: outcome (-reference +ours):\n%s", in.args, diff)
			}
			compared++
		}
	})
	if writes != 0 {
		t.Errorf("%d writes reached the kernel from a user who is not root", writes)
	}
	saved := filepath.Join(dir, "saved")
	ourOwn := [][]string{
		{"ipvsadm-restore", "--atomic", rulesFile}, {"ipvsadm-restore", "--sync", rulesFile},
		{"ipvsadm-restore", "--sync", "--dry-run", rulesFile}, {"ipvsadm-save", "-n", "--file", saved},
	}
	writes = testenv.CountIPVSWrites(t, func() {
		for _, args := range ourOwn {
			o := w.run("ours", nil, nobody, args...)
			if o.Status == 0 || o.Stderr == "" || o.Stdout != "" {
				t.Errorf("%v as nobody: %+v; want a failure with a message", args, o)
			}
			t.Logf("%v as nobody: status %d, %q", args, o.Status, o.Stderr)
		}
	})
	if writes != 0 {
		t.Errorf("%d writes reached the kernel from a user who is not root", writes)
	}
	if _, err := os.Lstat(saved); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ipvsadm-save --file as nobody made %s (%v)", saved, err)
	}
	if diff := cmp.Diff(before, w.table()); diff != "" {
		t.Errorf("table changed (-before +after):\n%s", diff)
	}
	t.Logf("%d commands compared with the reference, %d of ours alone, as uid %d: no write", compared, len(ourOwn), nobody)
}

// churn adds and removes services of 10.99.0.0/16 in the world's namespace,
// from a thread of its own, each kept for hold and then gone for hold,
// until stop is closed. The func it returns waits for it to end and says
// how many it added and removed.
func (w *vmWorld) churn(stop chan struct{}, hold time.Duration) func() (int, int) {
	var added, removed atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		// The thread stays in the namespace; it ends with the goroutine.
		if err := w.enter(); err != nil {
			w.t.Errorf("churn: %v", err)
			return
		}
		c, err := ipvs.New()
		if err != nil {
			w.t.Errorf("churn: %v", err)
			return
		}
		defer c.Close()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			s := ipvs.Service{Protocol: ipvs.TCP, Address: netip.AddrFrom4([4]byte{10, 99, byte(n / 250 % 250), byte(n % 250)}), Port: 80, Scheduler: "rr"}
			ok := func(_ int, err error) bool { return err == nil }
			if c.Apply([]ipvs.Op{{Command: ipvs.CmdNewService, Service: s}}, ok) == nil {
				added.Add(1)
			}
			time.Sleep(hold)
			if c.Apply([]ipvs.Op{{Command: ipvs.CmdDelService, Service: s}}, ok) == nil {
				removed.Add(1)
			}
			time.Sleep(hold)
		}
	})
	return func() (int, int) {
		wg.Wait()
		return int(added.Load()), int(removed.Load())
	}
}

// stableRules is n services of one server each, in 10.1.0.0/16 and up.
func stableRules(n int) string {
	var b strings.Builder
	for i := range n {
		svc := fmt.Sprintf("10.%d.%d.%d:80", 1+i/62500, i/250%250, 1+i%250)
		fmt.Fprintf(&b, "-A -t %s -s wlc\n-a -t %s -r 10.128.%d.%d:8080 -m -w 1\n", svc, svc, i/250%250, 1+i%250)
	}
	return b.String()
}

// TestListingWhileAnotherProcessWrites lists 10,000 services while another
// process adds and removes others as fast as it can: every service that is
// there throughout must be listed once, with its server. IPVS dumps by
// position, so ipvsadm 1.31's listing under the same load is counted too
// (it is not held to it).
func TestListingWhileAnotherProcessWrites(t *testing.T) {
	w := newVMWorld(t)
	const n = 10_000
	w.load(stableRules(n))
	// Each service's block of lines (its line and its server's), as a
	// listing made before the other process starts has them.
	blocks := func(listing string) map[string]int {
		count := map[string]int{}
		lines := strings.Split(listing, "\n")
		for i := 0; i < len(lines); i++ {
			if !strings.HasPrefix(lines[i], "TCP ") {
				continue
			}
			block := lines[i]
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  -> ") {
				i++
				block += "\n" + lines[i]
			}
			if !strings.HasPrefix(block, "TCP  10.99.") {
				count[block]++
			}
		}
		return count
	}
	stable := blocks(w.ref("", "-Ln"))
	if len(stable) != n {
		t.Fatalf("%d services listed before, want %d", len(stable), n)
	}
	stop := make(chan struct{})
	churned := w.churn(stop, time.Millisecond)
	wrong := map[string]int{}
	const runs = 4
	for run := range runs {
		for _, side := range []string{"ours", "reference"} {
			o := w.run(side, nil, 0, "ipvsadm", "-Ln")
			if o.Status != 0 {
				t.Fatalf("%s -Ln: %+v", side, o)
			}
			listed := blocks(o.Stdout)
			bad := 0
			for block := range stable {
				if listed[block] != 1 {
					bad++
					if side == "ours" && bad <= 5 {
						t.Errorf("run %d: %q listed %d times, want once", run, block, listed[block])
					}
				}
			}
			wrong[side] += bad
		}
	}
	close(stop)
	added, removed := churned()
	if wrong["ours"] != 0 {
		t.Errorf("ours: %d services missing or listed twice in %d listings", wrong["ours"], runs)
	}
	t.Logf("%d listings of %d services each side while another process added %d and removed %d services: ours %d wrong, the reference %d",
		runs, n, added, removed, wrong["ours"], wrong["reference"])
}

// TestSyncWhileAnotherProcessWrites syncs 5,000 services to an edited file
// while another process adds and removes services: each run either makes
// the table the file (the other program's services apart), or finds the
// other program's change (reading the table back, or by a write the kernel
// refuses), says so, and leaves the table as it was.
func TestSyncWhileAnotherProcessWrites(t *testing.T) {
	w := newVMWorld(t)
	const n = 5_000
	original := stableRules(n)
	edited := strings.Replace(original, "-s wlc\n", "-s rr\n", 50) + "-A -t 10.200.0.1:80 -s rr\n"
	file := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	withoutChurn := func(table string) string {
		var b strings.Builder
		for _, line := range strings.SplitAfter(table, "\n") {
			if !strings.Contains(line, " 10.99.") {
				b.WriteString(line)
			}
		}
		return b.String()
	}
	w.load(original)
	before := w.table()
	w.load(edited)
	after := w.table()
	outcomes := map[string]int{}
	// A service of the other program's lives about as long as a sync
	// runs, so that some syncs see one come or go under them, and some
	// not.
	const runs = 6
	for run := range runs {
		w.load(original)
		stop := make(chan struct{})
		churned := w.churn(stop, 1500*time.Millisecond)
		// Each run meets the other program at another point of its
		// cycle.
		time.Sleep(time.Duration(run) * 500 * time.Millisecond)
		o := w.run("ours", nil, 0, "ipvsadm-restore", "--sync", file)
		close(stop)
		churned()
		got := withoutChurn(w.table())
		switch {
		case o.Status == 0 && o.Stderr == "":
			outcomes["synced"]++
			if diff := cmp.Diff(after, got); diff != "" {
				t.Errorf("run %d: synced, but the table is not the file (-want +got):\n%s", run, diff)
			}
		case o.Status == 1 && strings.Contains(o.Stderr, "another program changed the table during the sync") &&
			strings.Contains(o.Stderr, "every change of this run was undone"):
			outcomes["changed meanwhile: undone"]++
			if diff := cmp.Diff(before, got); diff != "" {
				t.Errorf("run %d: undone, but the table is not as it was (-want +got):\n%s", run, diff)
			}
		case o.Status == 255 && strings.HasSuffix(o.Stderr, "ipvsadm-restore: every change was undone, the table is as it was\n"):
			// The other program removed a service the sync was about
			// to remove, or added one it was about to add.
			outcomes["refused by the kernel: undone"]++
			if diff := cmp.Diff(before, got); diff != "" {
				t.Errorf("run %d: undone, but the table is not as it was (-want +got):\n%s", run, diff)
			}
		default:
			t.Errorf("run %d: %+v", run, o)
		}
	}
	t.Logf("%d syncs of %d services with another process writing: %v", runs, n, outcomes)
}

// TestSaveFileSurvivesKill kills ipvsadm-save --file at moments spread
// over its run: the file is always either the old one or the whole new
// one, and the next run removes the temporary files the killed ones left.
func TestSaveFileSurvivesKill(t *testing.T) {
	w := newVMWorld(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "ipvsadm.rules")
	w.load(fixture)
	old := w.table()
	w.load(stableRules(10_000))
	whole := w.table()
	if err := os.WriteFile(file, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	// How long a whole run takes, to spread the kills over it.
	start := time.Now()
	if o := w.run("ours", nil, 0, "ipvsadm-save", "-n", "--file", file); o.Status != 0 {
		t.Fatalf("ipvsadm-save --file: %+v", o)
	}
	took := time.Since(start)
	// Kills from half-way through the run (the table is read by then, and
	// the file not yet written) to after its end.
	const kills = 20
	delay := func(i int) time.Duration { return took/2 + took*time.Duration(i)*4/(5*kills) }
	outcomes := map[string]int{}
	for i := range kills {
		if err := os.WriteFile(file, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(filepath.Join(oursDir, "ipvsadm-save"), "-n", "--file", file)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay(i))
		cmd.Process.Kill()
		cmd.Wait()
		b, err := os.ReadFile(file)
		switch {
		case err != nil:
			t.Errorf("kill %d: %v", i, err)
		case string(b) == old:
			outcomes["old"]++
		case string(b) == whole:
			outcomes["new"]++
		default:
			t.Errorf("kill %d after %v: the file is neither the old nor the new table (%d bytes)", i, delay(i), len(b))
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".ipvsadm.rules.tmp-*"))
	if o := w.run("ours", nil, 0, "ipvsadm-save", "-n", "--file", file); o.Status != 0 {
		t.Fatalf("ipvsadm-save --file: %+v", o)
	}
	if rest, _ := filepath.Glob(filepath.Join(dir, ".ipvsadm.rules.tmp-*")); len(rest) != 0 {
		t.Errorf("temporary files left after a whole run: %v", rest)
	}
	t.Logf("%d kills over a %v save: file %v; %d temporary files left by killed runs, removed by the next", kills, took.Round(time.Millisecond), outcomes, len(left))
}

// TestFilesAgainstAnotherUser: in a folder every user may write to (with
// the sticky bit, as /tmp), another user plants a link where
// ipvsadm-save --file will write, and leaves a rules file of their own:
// the save refuses the link and leaves its target alone, and a restore of
// their file warns.
func TestFilesAgainstAnotherUser(t *testing.T) {
	w := newVMWorld(t)
	w.load(fixture)
	shared := sharedDir(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("root's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asNobody := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v as nobody: %v: %s", name, args, err, out)
		}
	}
	link := filepath.Join(shared, "ipvsadm.rules")
	asNobody("ln", "-s", victim, link)
	o := w.run("ours", nil, 0, "ipvsadm-save", "-n", "--file", link)
	if o.Status == 0 || !strings.Contains(o.Stderr, "is unchanged") {
		t.Errorf("ipvsadm-save --file onto another user's link: %+v; want a refusal", o)
	}
	t.Logf("link refused: %q", o.Stderr)
	if b, _ := os.ReadFile(victim); string(b) != "root's\n" {
		t.Errorf("the link's target was written: %q", b)
	}
	theirs := filepath.Join(shared, "theirs.rules")
	asNobody("sh", "-c", "printf '%s' \"$0\" >"+theirs, "-A -t 10.0.0.5:80 -s rr\n")
	o = w.run("ours", nil, 0, "ipvsadm-restore", "--sync", "--dry-run", theirs)
	want := "ipvsadm-restore: warning: " + theirs + " can be changed by its owner (uid 65534), and so can the IPVS table it loads\n"
	if o.Stderr != want {
		t.Errorf("restore of another user's file: stderr %q, want %q", o.Stderr, want)
	}
}

// sharedDir is a new folder that every user may write to, with the sticky
// bit, as /tmp: t.TempDir's folders are the caller's alone.
func sharedDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "ipvs-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return dir
}
