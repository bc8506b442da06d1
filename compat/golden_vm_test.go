//go:build linux

package compat_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// The tests in this file replay the golden scenarios on the real kernel in
// the VM (make vmtest), three ways, each held byte for byte to the goldens:
// ours runs every step; ours writes and the reference reads; the reference
// writes and ours reads. The last two show that each side's writes leave the
// kernel in the state the other side reads as the reference's own.

// TestGoldenRealKernel runs every step with ours.
func TestGoldenRealKernel(t *testing.T) {
	replayGoldenOnKernel(t, func(st testenv.Step) (stepOutcome, error) { return runCompat(goldenKernelEnv(), st) })
}

// TestGoldenRealKernelReferenceReads runs the listing and save steps with
// the reference, every other step with ours.
func TestGoldenRealKernelReferenceReads(t *testing.T) {
	replayGoldenOnKernel(t, func(st testenv.Step) (stepOutcome, error) {
		if goldenReadsOnly(st.Args) {
			return runGoldenReference(st)
		}
		return runCompat(goldenKernelEnv(), st)
	})
}

// TestGoldenRealKernelReferenceWrites runs the listing and save steps with
// ours, every other step with the reference.
func TestGoldenRealKernelReferenceWrites(t *testing.T) {
	replayGoldenOnKernel(t, func(st testenv.Step) (stepOutcome, error) {
		if goldenReadsOnly(st.Args) {
			return runCompat(goldenKernelEnv(), st)
		}
		return runGoldenReference(st)
	})
}

// replayGoldenOnKernel replays every scenario with run on the real kernel,
// reset to the scenarios' starting state before each.
func replayGoldenOnKernel(t *testing.T, run func(testenv.Step) (stepOutcome, error)) {
	c := goldenWorld(t)
	for _, gs := range loadGoldenScenarios(t) {
		t.Run(gs.Name, func(t *testing.T) {
			skipIntendedDifference(t, gs)
			if !resetGoldenKernel(t, c) {
				t.FailNow()
			}
			if goldenListsConnections(gs.Scenario) && !goldenNoConnections(t) {
				t.Skip("skipped: /proc/net/ip_vs_conn holds connections of an earlier test; the scenario lists connections")
			}
			replayGolden(t, gs, run)
		})
	}
}

// goldenKernelEnv is the environment of our commands in the VM: the real
// kernel, the system's name lookups (the scenarios' files, installed by
// goldenWorld) and the kernel's connection table. IPVS is loaded, so there
// is no modprobe.
func goldenKernelEnv() compat.Env {
	return compat.Env{
		Dial:  ipvs.New,
		Names: compat.SystemNames(),
		OpenConnections: func() (io.ReadCloser, error) {
			return os.Open("/proc/net/ip_vs_conn")
		},
	}
}

// goldenReadsOnly tells whether a step only reads the kernel: ipvsadm-save,
// and ipvsadm with no arguments or whose first option is -L, -l or -S (their
// long forms too), which includes --timeout, --daemon and -c.
func goldenReadsOnly(args []string) bool {
	switch args[0] {
	case "ipvsadm-save":
		return true
	case "ipvsadm-restore":
		return false
	}
	if len(args) == 1 {
		return true
	}
	for _, a := range args[1:] {
		switch {
		case a == "--":
			return false
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a[2:], "=")
			return name == "list" || name == "save"
		case len(a) > 1 && a[0] == '-':
			return a[1] == 'L' || a[1] == 'l' || a[1] == 'S'
		}
	}
	return false
}

// runGoldenReference runs a step with the reference: $IPVSADM_REFERENCE, or
// the wrapper of that name in $IPVSADM_REFERENCE_DIR, with argv[0] the bare
// name as in the goldens. A death by signal is 128 + the signal, as bash
// reported it when the goldens were made.
func runGoldenReference(st testenv.Step) (stepOutcome, error) {
	path := os.Getenv("IPVSADM_REFERENCE")
	if st.Args[0] != "ipvsadm" {
		path = filepath.Join(os.Getenv("IPVSADM_REFERENCE_DIR"), st.Args[0])
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, st.Args[1:]...)
	cmd.Args[0] = st.Args[0]
	cmd.Stdin = bytes.NewReader(st.Stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	out := stepOutcome{}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return out, fmt.Errorf("reference %s: %v", path, err)
		}
		ws := exit.Sys().(syscall.WaitStatus)
		out.status = ws.ExitStatus()
		if ws.Signaled() {
			out.status = 128 + int(ws.Signal())
		}
	}
	out.stdout, out.stderr = stdout.String(), stderr.String()
	return out, nil
}

// goldenWorld makes the VM the world the goldens were made in (see
// testdata/scenarios/README.md): the scenarios' /etc/hosts and /etc/services
// and the interfaces eth0 and eth1, all put back afterwards; it returns a
// client for resetting the kernel.
func goldenWorld(t *testing.T) *ipvs.Client {
	t.Helper()
	if os.Getenv("IPVS_VM") == "" {
		t.Skip("skipped: the golden scenarios flush the IPVS table and replace /etc/hosts, so they run on the real kernel only in the VM (make vmtest)")
	}
	for _, v := range []string{"IPVSADM_REFERENCE", "IPVSADM_REFERENCE_DIR"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is not set inside the VM", v)
		}
	}
	replaceGoldenFile(t, "/etc/hosts", "../testdata/etc/hosts")
	replaceGoldenFile(t, "/etc/services", "../testdata/etc/services")
	for _, dev := range []string{"eth0", "eth1"} {
		goldenInterface(t, dev)
	}
	c, err := ipvs.New()
	if err != nil {
		t.Fatalf("ipvs.New: %v", err)
	}
	t.Cleanup(func() {
		if resetGoldenKernel(t, c) {
			c.Close()
		}
	})
	return c
}

// replaceGoldenFile puts the contents of src in dst until the test ends.
func replaceGoldenFile(t *testing.T, dst, src string) {
	t.Helper()
	old, err := os.ReadFile(dst)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	existed := err == nil
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if existed {
			err = os.WriteFile(dst, old, 0o644)
		} else {
			err = os.Remove(dst)
		}
		if err != nil {
			t.Errorf("putting back %s: %v", dst, err)
		}
	})
}

// goldenInterface makes sure an interface named dev exists and is up: the
// default interface of the sync daemon is eth0, and the in-memory kernel
// has eth0 and eth1. One the test creates is removed afterwards.
func goldenInterface(t *testing.T, dev string) {
	t.Helper()
	if _, err := net.InterfaceByName(dev); err == nil {
		return
	}
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("link", "add", dev, "type", "dummy"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ip("link", "del", dev); err != nil {
			t.Error(err)
		}
	})
	if err := ip("link", "set", dev, "up"); err != nil {
		t.Fatal(err)
	}
}

var goldenTimeouts = ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}

// resetGoldenKernel brings the kernel back to where every scenario starts:
// an empty table, no sync daemon, the default timeouts. A reset that hangs
// (a sync daemon that does not stop) fails the test with the kernel stacks
// of the blocked tasks instead of waiting for the test binary's timeout.
func resetGoldenKernel(t *testing.T, c *ipvs.Client) bool {
	t.Helper()
	if goldenKernelStuck != "" {
		t.Errorf("reset: skipped, the kernel stopped answering earlier (%s)", goldenKernelStuck)
		return false
	}
	done := make(chan error, 1)
	go func() { done <- resetGoldenTable(c) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("reset: %v", err)
			return false
		}
		return true
	case <-time.After(time.Minute):
		goldenKernelStuck = t.Name()
		t.Errorf("reset: no answer from the kernel after a minute; blocked tasks:\n%s", blockedTasks())
		return false
	}
}

// goldenKernelStuck names the test whose reset never returned: the later
// ones do not wait for the kernel again.
var goldenKernelStuck string

func resetGoldenTable(c *ipvs.Client) error {
	if err := c.Flush(); err != nil {
		return fmt.Errorf("Flush: %w", err)
	}
	daemons, err := c.Daemons()
	if err != nil {
		return fmt.Errorf("Daemons: %w", err)
	}
	for _, d := range daemons {
		if err := c.StopDaemon(d.State); err != nil {
			return fmt.Errorf("StopDaemon(%v): %w", d.State, err)
		}
	}
	if err := c.SetTimeouts(goldenTimeouts); err != nil {
		return fmt.Errorf("SetTimeouts: %w", err)
	}
	return nil
}

// blockedTasks lists the tasks in uninterruptible sleep and the IPVS sync
// threads (ipvs-m:*, ipvs-b:*), with their kernel stacks.
func blockedTasks() string {
	var b strings.Builder
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		data, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ...
		_, rest, _ := strings.Cut(string(data), ") ")
		if !strings.HasPrefix(rest, "D") && !strings.Contains(string(data), "ipvs") {
			continue
		}
		stack, _ := os.ReadFile(filepath.Join(filepath.Dir(st), "stack"))
		fmt.Fprintf(&b, "%s%s\n", data, stack)
	}
	return b.String()
}

// goldenConnectionOption matches a -c or --connection option, alone or in a
// cluster of short options.
var goldenConnectionOption = regexp.MustCompile(`(^|\s)(-[A-Za-z]*c[A-Za-z]*|--connection)(\s|$)`)

// goldenListsConnections tells whether a scenario may list
// /proc/net/ip_vs_conn.
func goldenListsConnections(sc testenv.Scenario) bool {
	for _, st := range sc.Steps {
		if goldenConnectionOption.MatchString(st.Line) || goldenConnectionOption.Match(st.Stdin) {
			return true
		}
	}
	return false
}

// goldenNoConnections tells whether the kernel's connection table is empty,
// as the goldens' is: other tests in the VM send traffic, and connections
// outlive their services until they expire.
func goldenNoConnections(t *testing.T) bool {
	t.Helper()
	f, err := os.Open("/proc/net/ip_vs_conn")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	lines := 0
	for s.Scan() {
		lines++
	}
	return lines <= 1
}
