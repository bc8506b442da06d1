package persist_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/internal/hostlock"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/lvsgo/ipvsadm/persist"
)

// A host is an in-memory kernel and the files of a host.
type host struct {
	t      *testing.T
	kernel *ipvstest.Kernel
	dir    string
	lock   string
}

func newHost(t *testing.T) *host {
	dir := t.TempDir()
	return &host{t: t, kernel: ipvstest.New(), dir: dir, lock: filepath.Join(dir, "ipvsadm.lock")}
}

// result is what a run printed and returned.
type result struct {
	status         int
	stdout, stderr string
}

// run runs a command (ipvsadm, ipvsadm-save or ipvsadm-restore) on the
// host with stdin.
func (h *host) run(stdin string, args ...string) result {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	env := persist.Env{
		Env: compat.Env{
			Args:   args,
			Stdin:  strings.NewReader(stdin),
			Stdout: &stdout,
			Stderr: &stderr,
			Dial:   func() (*ipvs.Client, error) { return ipvs.NewFromConn(h.kernel.Dial()) },
			Names:  compat.FileNames(nil, nil),
		},
		LockPath: h.lock,
	}
	var status int
	switch args[0] {
	case "ipvsadm":
		status = compat.Main(env.Env)
	case "ipvsadm-save":
		status = persist.SaveMain(env)
	case "ipvsadm-restore":
		status = persist.RestoreMain(env)
	}
	return result{status, stdout.String(), stderr.String()}
}

// mustRun runs a command that must succeed silently but for its stdout.
func (h *host) mustRun(stdin string, args ...string) string {
	h.t.Helper()
	r := h.run(stdin, args...)
	if r.status != 0 || r.stderr != "" {
		h.t.Fatalf("%v: status %d, stderr %q", args, r.status, r.stderr)
	}
	return r.stdout
}

// file writes a file in the host's folder and returns its path.
func (h *host) file(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

const (
	tableA = "-A -t 10.0.0.1:80 -s rr\n" +
		"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n" +
		"-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 1\n" +
		"-A -u 10.0.0.2:53 -s wlc\n" +
		"-a -u 10.0.0.2:53 -r 10.0.2.1:53 -g -w 1\n"
	// tableB edits a weight and a scheduler, adds a server and a
	// service, and drops a server.
	tableB = "# the rules of B\n" +
		"-A -t 10.0.0.1:80 -s rr\n" +
		"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n" +
		"-a -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 5\n" +
		"\n" +
		"-A -u 10.0.0.2:53 -s sh\n" +
		"-a -u 10.0.0.2:53 -r 10.0.2.1:53 -g -w 1\n" +
		"-A -f 5 -s lc -p 60\n"
)

func TestRestoreModesReachTheInput(t *testing.T) {
	for _, mode := range []string{"--atomic", "--sync"} {
		t.Run(mode, func(t *testing.T) {
			h := newHost(t)
			h.mustRun(tableA, "ipvsadm-restore")
			h.mustRun("", "ipvsadm-restore", mode, h.file("rules", tableB))
			want := "-A -t 10.0.0.1:80 -s rr\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n" +
				"-a -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 5\n" +
				"-A -u 10.0.0.2:53 -s sh\n" +
				"-a -u 10.0.0.2:53 -r 10.0.2.1:53 -g -w 1\n" +
				"-A -f 5 -s lc -p 60\n"
			if diff := cmp.Diff(want, h.mustRun("", "ipvsadm", "-Sn")); diff != "" {
				t.Errorf("table after %s (-want +got):\n%s", mode, diff)
			}
		})
	}
}

func TestRestoreDryRunPrintsThePlan(t *testing.T) {
	tests := []struct {
		mode string
		want string
	}{
		{"--sync", "-a -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 5\n" +
			"-A -f 5 -s lc -p 60\n" +
			"-E -u 10.0.0.2:53 -s sh\n" +
			"-d -t 10.0.0.1:80 -r 10.0.1.2:80\n"},
		{"--atomic", "-C\n" +
			"-A -t 10.0.0.1:80 -s rr\n" +
			"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n" +
			"-a -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 5\n" +
			"-A -u 10.0.0.2:53 -s sh\n" +
			"-a -u 10.0.0.2:53 -r 10.0.2.1:53 -g -w 1\n" +
			"-A -f 5 -s lc -p 60\n"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			h := newHost(t)
			h.mustRun(tableA, "ipvsadm-restore")
			writes := h.kernel.Writes()
			got := h.mustRun(tableB, "ipvsadm-restore", tt.mode, "--dry-run")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if n := h.kernel.Writes() - writes; n != 0 {
				t.Errorf("--dry-run made %d writes", n)
			}
		})
	}
}

func TestSyncOfTheLiveTableWritesNothing(t *testing.T) {
	h := newHost(t)
	h.mustRun(tableB, "ipvsadm-restore")
	saved := h.mustRun("", "ipvsadm-save")
	writes := h.kernel.Writes()
	h.mustRun(saved, "ipvsadm-restore", "--sync")
	if n := h.kernel.Writes() - writes; n != 0 {
		t.Errorf("--sync of the saved table made %d writes, want 0", n)
	}
}

func TestRestoreFailures(t *testing.T) {
	tests := []struct {
		name  string
		args  []string // after ipvsadm-restore; $FILE is the rules file
		input string
		fault int // the kernel refuses this write, counting from 1; 0: none
		want  result
	}{
		{
			name:  "a line ipvsadm refuses",
			args:  []string{"--atomic", "$FILE"},
			input: "-A -t 10.0.0.9:80\n-a -t 10.0.0.9:80 -r 10.0.9.1 -w -1\n",
			want: result{status: 2, stderr: "ipvsadm-restore: line 2 of $FILE: -a -t 10.0.0.9:80 -r 10.0.9.1 -w -1\n" +
				"illegal weight specified\n" +
				"ipvsadm-restore: nothing was changed\n"},
		},
		{
			name:  "a server of no service, from standard input",
			args:  []string{"--sync"},
			input: tableA + "-a -t 10.0.0.7:80 -r 10.0.1.1\n",
			want: result{status: 255, stderr: "ipvsadm-restore: line 6: -a -t 10.0.0.7:80 -r 10.0.1.1\n" +
				"Service not defined\n" +
				"ipvsadm-restore: nothing was changed\n"},
		},
		{
			name:  "the kernel refuses a write",
			args:  []string{"--atomic", "$FILE"},
			input: tableB,
			fault: 3,
			want: result{status: 255, stderr: "ipvsadm-restore: line 3 of $FILE: -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n" +
				"Memory allocation problem\n" +
				"ipvsadm-restore: every change was undone, the table is as it was\n"},
		},
		{
			name:  "the kernel refuses a write of --sync",
			args:  []string{"--sync", "$FILE"},
			input: tableB,
			fault: 3,
			want: result{status: 255, stderr: "ipvsadm-restore: line 6 of $FILE: -A -u 10.0.0.2:53 -s sh\n" +
				"Memory allocation problem\n" +
				"ipvsadm-restore: every change was undone, the table is as it was\n"},
		},
		{
			name:  "the kernel refuses the flush",
			args:  []string{"--atomic", "$FILE"},
			input: tableB,
			fault: 1,
			want: result{status: 255, stderr: "ipvsadm-restore: clearing the table: -C\n" +
				"Memory allocation problem\n" +
				"ipvsadm-restore: every change was undone, the table is as it was\n"},
		},
		{
			name: "a missing file",
			args: []string{"--atomic", "$MISSING"},
			want: result{status: 1, stderr: "ipvsadm-restore: open $MISSING: no such file or directory\n"},
		},
		{
			name: "both modes",
			args: []string{"--atomic", "--sync"},
			want: result{status: 2, stderr: "ipvsadm-restore: --atomic and --sync exclude each other\n" + usage},
		},
		{
			name: "a dry run of the classic mode",
			args: []string{"--dry-run"},
			want: result{status: 2, stderr: "ipvsadm-restore: --dry-run and --allow-missing need --atomic or --sync\n" + usage},
		},
		{
			name: "an unknown option",
			args: []string{"--sync", "--flush"},
			want: result{status: 2, stderr: "ipvsadm-restore: unknown option --flush\n" + usage},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			h.mustRun(tableA, "ipvsadm-restore")
			before := h.mustRun("", "ipvsadm", "-Ln")
			file := h.file("rules", tt.input)
			missing := filepath.Join(h.dir, "missing")
			args := []string{"ipvsadm-restore"}
			for _, a := range tt.args {
				a = strings.ReplaceAll(a, "$MISSING", missing)
				args = append(args, strings.ReplaceAll(a, "$FILE", file))
			}
			if tt.fault > 0 {
				writes := 0
				h.kernel.SetFault(func(r ipvstest.Request) error {
					if !r.Dump && r.Command != uint8(ipvs.CmdGetInfo) {
						if writes++; writes == tt.fault {
							return syscall.ENOMEM
						}
					}
					return nil
				})
			}
			writes := h.kernel.Writes()
			got := h.run(tt.input, args...)
			h.kernel.SetFault(nil)
			tt.want.stderr = strings.NewReplacer("$FILE", file, "$MISSING", missing).Replace(tt.want.stderr)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(result{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.fault == 0 && h.kernel.Writes() != writes {
				t.Errorf("%d writes reached the kernel", h.kernel.Writes()-writes)
			}
			if diff := cmp.Diff(before, h.mustRun("", "ipvsadm", "-Ln")); diff != "" {
				t.Errorf("the table changed (-before +after):\n%s", diff)
			}
		})
	}
}

const usage = "Usage: ipvsadm-restore [--atomic | --sync] [--dry-run] [--allow-missing] [FILE]\n" +
	"  without --atomic or --sync, the table is cleared and standard input restored\n" +
	"  line by line, as ipvsadm 1.31's ipvsadm-restore does (any argument is ignored)\n"

func TestRestoreAllowMissing(t *testing.T) {
	for _, mode := range []string{"--atomic", "--sync"} {
		t.Run(mode, func(t *testing.T) {
			h := newHost(t)
			h.mustRun(tableA, "ipvsadm-restore")
			h.mustRun("", "ipvsadm-restore", mode, "--allow-missing", filepath.Join(h.dir, "nothing"))
			if got := h.mustRun("", "ipvsadm", "-Sn"); got != "" {
				t.Errorf("table after a missing file:\n%s", got)
			}
		})
	}
}

func TestSaveFile(t *testing.T) {
	h := newHost(t)
	h.mustRun(tableA, "ipvsadm-restore")
	want := h.mustRun("", "ipvsadm", "-Sn")

	fresh := filepath.Join(h.dir, "fresh")
	h.mustRun("", "ipvsadm-save", "-n", "--file", fresh)
	existing := h.file("existing", "old rules\n")
	if err := os.Chmod(existing, 0o640); err != nil {
		t.Fatal(err)
	}
	h.mustRun("", "ipvsadm-save", "--file="+existing, "-n")
	for path, mode := range map[string]os.FileMode{fresh: 0o600, existing: 0o640} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, mode)
		}
	}
}

func TestSaveFileKeepsTheOldFileOnFailure(t *testing.T) {
	h := newHost(t)
	existing := h.file("rules", "old rules\n")
	h.kernel.SetFault(func(r ipvstest.Request) error {
		if r.Dump {
			return syscall.EPERM
		}
		return nil
	})
	got := h.run("", "ipvsadm-save", "-n", "--file", existing)
	if got.status == 0 || !strings.Contains(got.stderr, existing+" is unchanged") {
		t.Errorf("status %d, stderr %q: want a failure that keeps %s", got.status, got.stderr, existing)
	}
	if b, _ := os.ReadFile(existing); string(b) != "old rules\n" {
		t.Errorf("%s is now %q", existing, b)
	}
}

// TestLockSerialisesRuns holds the host's lock and starts a restore: it
// must not finish before the lock is released.
func TestLockSerialisesRuns(t *testing.T) {
	h := newHost(t)
	held, err := hostlock.Lock(h.lock)
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	done := make(chan bool)
	go func() {
		r := h.run(tableA, "ipvsadm-restore", "--sync")
		select {
		case <-released:
			done <- r.status == 0
		default:
			done <- false // it ran while the lock was held
		}
	}()
	select {
	case <-done:
		t.Fatal("the restore finished while another held the lock")
	default:
	}
	close(released)
	held.Unlock()
	if !<-done {
		t.Error("the restore did not wait for the lock, or failed")
	}
}

// TestSyncDetectsAnotherWriter: another program (which does not take the
// lock) adds a service while --sync applies tableB over tableA. The run
// reads the table back, sees it is not what its input asks for, undoes its
// own writes and keeps the other program's: the table is tableA and the
// service added.
func TestSyncDetectsAnotherWriter(t *testing.T) {
	for _, at := range []int{1, 2, 3, 4} { // the plan has 4 writes
		t.Run(fmt.Sprintf("during write %d", at), func(t *testing.T) {
			h := newHost(t)
			h.mustRun(tableA, "ipvsadm-restore")
			other, err := ipvs.NewFromConn(h.kernel.Dial())
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			added := ipvs.Service{Protocol: ipvs.TCP, Address: netip.MustParseAddr("10.9.9.9"), Port: 80, Scheduler: "wrr"}
			h.mustRun("-A -t 10.9.9.9:80 -s wrr\n", "ipvsadm", "-R")
			want := h.mustRun("", "ipvsadm", "-Sn")
			h.mustRun("-D -t 10.9.9.9:80\n", "ipvsadm", "-R")

			writes := 0
			h.kernel.SetFault(func(r ipvstest.Request) error {
				if r.Command == uint8(ipvs.CmdNewService) || r.Command == uint8(ipvs.CmdSetService) ||
					r.Command == uint8(ipvs.CmdNewDestination) || r.Command == uint8(ipvs.CmdDelDestination) {
					if writes++; writes == at {
						h.kernel.SetFault(nil)
						if err := other.Apply([]ipvs.Op{{Command: ipvs.CmdNewService, Service: added}}, func(int, error) bool { return true }); err != nil {
							t.Error(err)
						}
					}
				}
				return nil
			})
			r := h.run(tableB, "ipvsadm-restore", "--sync")
			h.kernel.SetFault(nil)
			wantStderr := "ipvsadm-restore: another program changed the table during the sync: it is 1 write away from the input, the first: -D -t 10.9.9.9:80\n" +
				"ipvsadm-restore: every change of this run was undone; the other program's changes are kept\n"
			if r.status != 1 || r.stderr != wantStderr {
				t.Errorf("status %d, stderr:\n%s\nwant 1,\n%s", r.status, r.stderr, wantStderr)
			}
			if diff := cmp.Diff(want, h.mustRun("", "ipvsadm", "-Sn")); diff != "" {
				t.Errorf("table (-want +got), want tableA and the other program's service:\n%s", diff)
			}
		})
	}
}

// TestRestoreWarnsOfAFileOthersCanChange: a rules file that users other
// than root (and the caller) can change, or replace through its folder,
// steers the IPVS table: --atomic and --sync load it, and say so.
func TestRestoreWarnsOfAFileOthersCanChange(t *testing.T) {
	tests := []struct {
		name     string
		fileMode os.FileMode
		dirMode  os.FileMode
		wantWho  string // "" for no warning
	}{
		{"private", 0o600, 0o755, ""},
		{"readable by all", 0o644, 0o755, ""},
		{"writable by all", 0o666, 0o755, "every user"},
		{"in a folder writable by all", 0o644, 0o777, "every user (through its folder)"},
		{"in a sticky folder writable by all", 0o644, 0o777 | os.ModeSticky, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			dir := filepath.Join(h.dir, "etc")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "ipvsadm.rules")
			if err := os.WriteFile(file, []byte(tableA), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(file, tt.fileMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.dirMode); err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.wantWho != "" {
				want = "ipvsadm-restore: warning: " + file + " can be changed by " + tt.wantWho + ", and so can the IPVS table it loads\n"
			}
			for _, mode := range []string{"--atomic", "--sync"} {
				r := h.run("", "ipvsadm-restore", mode, file)
				if r.status != 0 || r.stderr != want {
					t.Errorf("%s: status %d, stderr %q; want 0, %q", mode, r.status, r.stderr, want)
				}
			}
		})
	}
}

// TestDumpThatOverflowsFailsWhole: the receive buffer overflows (ENOBUFS)
// half-way through a dump of 3,000 services of 3 servers. A listing says so
// and fails (status 1) rather than print part of the table as the whole; a
// save to a file leaves the file alone; a sync, which must read the table
// first, writes nothing.
func TestDumpThatOverflowsFailsWhole(t *testing.T) {
	h := newHost(t)
	var rules strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&rules, "-A -t 10.1.%d.%d:80 -s rr\n", i/250, i%250+1)
		for j := range 3 {
			fmt.Fprintf(&rules, "-a -t 10.1.%d.%d:80 -r 10.2.%d.%d:80 -m -w %d\n", i/250, i%250+1, j, i%250+1, j+1)
		}
	}
	h.mustRun(rules.String(), "ipvsadm", "-R")
	saved := h.file("saved", "the old file\n")
	edited := h.file("edited", strings.Replace(rules.String(), "-s rr", "-s wlc", 1))
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"ipvsadm", "-Ln"}, "No buffer space available\n"},
		{[]string{"ipvsadm", "-Sn"}, "No buffer space available\n"},
		{[]string{"ipvsadm-save", "-n", "--file", saved}, "No buffer space available\nipvsadm-save: " + saved + " is unchanged\n"},
		{[]string{"ipvsadm-restore", "--sync", edited}, "ipvsadm-restore: reading the table: No buffer space available\n"},
	}
	for _, tt := range tests {
		for _, at := range []int{1, 10, 40} {
			datagrams := 0
			h.kernel.SetBetweenDatagrams(func() error {
				if datagrams++; datagrams == at {
					return syscall.ENOBUFS
				}
				return nil
			})
			writes := h.kernel.Writes()
			r := h.run("", tt.args...)
			h.kernel.SetBetweenDatagrams(nil)
			if r.status != 1 || r.stderr != tt.wantStderr {
				t.Errorf("%v, overflow at datagram %d: status %d, stderr %q; want 1, %q", tt.args, at, r.status, r.stderr, tt.wantStderr)
			}
			if n := h.kernel.Writes() - writes; n != 0 {
				t.Errorf("%v: %d writes", tt.args, n)
			}
		}
	}
	if b, _ := os.ReadFile(saved); string(b) != "the old file\n" {
		t.Errorf("saved file changed: %q", b)
	}
}
