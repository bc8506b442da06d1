//go:build linux

package ipvs_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// The tests in this file hold the library to ipvsadm 1.31 on the real
// kernel, both ways: what the library writes, the reference must print as it
// prints its own writes; what the reference writes, the library must read
// as the values the command lines mean. They run in the VM (make vmtest),
// where IPVSADM_REFERENCE names the reference binary.

// reference returns the path of the reference ipvsadm, or skips.
func reference(t *testing.T) string {
	t.Helper()
	path := os.Getenv("IPVSADM_REFERENCE")
	if path == "" {
		if os.Getenv("IPVS_VM") != "" {
			t.Fatal("IPVSADM_REFERENCE is not set inside the VM")
		}
		t.Skip("skipped: IPVSADM_REFERENCE is not set; make vmtest runs it in a VM with ipvsadm 1.31")
	}
	return path
}

// runReference runs the reference ipvsadm and returns its standard output;
// a failure fails the test.
func runReference(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(reference(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ipvsadm %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// buildWithReference creates the scenario's table with the reference's
// command lines.
func (sc tableScenario) buildWithReference(t *testing.T) {
	t.Helper()
	for _, line := range sc.ipvsadm {
		runReference(t, line...)
	}
}

// referenceViews are the listings compared between the two ways of writing.
var referenceViews = [][]string{
	{"-Sn"},
	{"-Ln"},
	{"-Ln", "--thresholds"},
	{"-Ln", "--persistent-conn"},
	{"-Ln", "--tun-info"},
	{"-Ln", "--stats", "--exact"},
}

func captureViews(t *testing.T) map[string]string {
	t.Helper()
	views := map[string]string{}
	for _, args := range referenceViews {
		views[strings.Join(args, " ")] = runReference(t, args...)
	}
	return views
}

func TestReferenceShowsOurWritesAsItsOwn(t *testing.T) {
	reference(t)
	for _, sc := range tableScenarios {
		t.Run(sc.name, func(t *testing.T) {
			c := kernelClient(t)
			sc.buildWithReference(t)
			want := captureViews(t)
			resetKernel(t, c)

			sc.build(t, c)
			got := captureViews(t)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reference listings of the library's table against its own (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLibraryReadsReferenceWrites(t *testing.T) {
	reference(t)
	for _, sc := range tableScenarios {
		t.Run(sc.name, func(t *testing.T) {
			c := kernelClient(t)
			sc.buildWithReference(t)
			if diff := cmp.Diff(sortedReadBack(sc), testenv.ReadTable(t, c, false), cmpAddr); diff != "" {
				t.Errorf("table written by the reference (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReferenceAndLibraryAgreeOnDaemons(t *testing.T) {
	reference(t)
	c := kernelClient(t)
	runReference(t, "--start-daemon", "master", "--mcast-interface", "lo", "--syncid", "5",
		"--sync-maxlen", "1400", "--mcast-group", "239.1.1.1", "--mcast-port", "8850", "--mcast-ttl", "3")
	runReference(t, "--start-daemon", "backup", "--mcast-interface", "lo", "--syncid", "6",
		"--sync-maxlen", "1200", "--mcast-group", "ff02::1:2", "--mcast-port", "8851", "--mcast-ttl", "4")
	want := []ipvs.Daemon{
		{State: ipvs.Master, Interface: "lo", SyncID: 5, MaxLength: 1400, Group: addr("239.1.1.1"), Port: 8850, TTL: 3},
		{State: ipvs.Backup, Interface: "lo", SyncID: 6, MaxLength: 1200, Group: addr("ff02::1:2"), Port: 8851, TTL: 4},
	}
	got, err := c.Daemons()
	if err != nil {
		t.Fatalf("Daemons: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("daemons started by the reference (-want +got):\n%s", diff)
	}
	wantListing := runReference(t, "-L", "--daemon")
	resetKernel(t, c)

	for _, d := range want {
		if err := c.StartDaemon(d); err != nil {
			t.Fatalf("StartDaemon(%v): %v", d.State, err)
		}
	}
	if diff := cmp.Diff(wantListing, runReference(t, "-L", "--daemon")); diff != "" {
		t.Errorf("reference -L --daemon of the library's daemons (-want +got):\n%s", diff)
	}
	// Stopping through the library is what the reference sees.
	if err := c.StopDaemon(ipvs.Backup); err != nil {
		t.Fatalf("StopDaemon: %v", err)
	}
	if out := runReference(t, "-L", "--daemon"); strings.Contains(out, "backup") || !strings.Contains(out, "master") {
		t.Errorf("after stopping the backup, the reference lists:\n%s", out)
	}
}

func TestReferenceAndLibraryAgreeOnTimeouts(t *testing.T) {
	reference(t)
	c := kernelClient(t)
	runReference(t, "--set", "100", "20", "30")
	got, err := c.Timeouts()
	if err != nil {
		t.Fatalf("Timeouts: %v", err)
	}
	if diff := cmp.Diff(ipvs.Timeouts{TCP: 100 * time.Second, TCPFin: 20 * time.Second, UDP: 30 * time.Second}, got); diff != "" {
		t.Errorf("timeouts set by the reference (-want +got):\n%s", diff)
	}
	wantListing := runReference(t, "-L", "--timeout")
	resetKernel(t, c)
	if err := c.SetTimeouts(got); err != nil {
		t.Fatalf("SetTimeouts: %v", err)
	}
	if diff := cmp.Diff(wantListing, runReference(t, "-L", "--timeout")); diff != "" {
		t.Errorf("reference -L --timeout (-want +got):\n%s", diff)
	}
}

func TestReferenceAndLibraryAgreeOnInfo(t *testing.T) {
	reference(t)
	c := kernelClient(t)
	info, err := c.Info()
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	// The first line of a listing: "IP Virtual Server version 1.2.1 (size=4096)".
	want := "IP Virtual Server version " + info.Version.String() + " (size=" + strconv.Itoa(int(info.ConnectionTableSize)) + ")"
	if got, _, _ := strings.Cut(runReference(t, "-Ln"), "\n"); got != want {
		t.Errorf("reference header: want %q, got %q", want, got)
	}
}

// TestStatisticsAgreeWithReference sends traffic through a service inside
// the VM (to a dummy interface: nothing leaves the machine) and checks that
// the library reads the counters the reference prints, then that zeroing
// through the library clears what the reference sees.
func TestStatisticsAgreeWithReference(t *testing.T) {
	reference(t)
	c := kernelClient(t)
	setupDummyRoute(t)

	svc := ipvs.Service{Protocol: ipvs.UDP, Address: addr("10.77.0.1"), Port: 9, Scheduler: "rr", Netmask: 0xffffffff}
	fwm := ipvs.Service{FirewallMark: 99, Scheduler: "rr", Netmask: 0xffffffff}
	if err := c.CreateService(svc); err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	if err := c.CreateService(fwm); err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	dst := ipvs.Destination{Address: addr("10.77.0.2"), Port: 9, Forwarding: ipvs.Route, Weight: 1}
	if err := c.CreateDestination(svc, dst); err != nil {
		t.Fatalf("CreateDestination: %v", err)
	}

	conn, err := net.Dial("udp4", "10.77.0.1:9")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	const datagrams, size = 25, 100
	for i := 0; i < datagrams; i++ {
		if _, err := conn.Write(make([]byte, size)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}

	// The kernel folds its per-CPU counters into what it reports every two
	// seconds, in its rate estimator.
	var got ipvs.ServiceExtended
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if got, err = c.Service(svc); err != nil {
			t.Fatalf("Service: %v", err)
		}
		if got.Stats.PacketsIn >= datagrams || time.Now().After(deadline) {
			break
		}
	}
	if got.Stats.Connections != 1 || got.Stats.PacketsIn != datagrams || got.Stats.BytesIn != datagrams*(size+28) {
		t.Errorf("service counters: want 1 connection, %d packets, %d bytes in; got %+v", datagrams, datagrams*(size+28), got.Stats)
	}
	dests, err := c.Destinations(svc)
	if err != nil || len(dests) != 1 {
		t.Fatalf("Destinations: %v, %v", dests, err)
	}
	refService, refDest := referenceCounters(t, runReference(t, "-Ln", "--stats", "--exact"), "UDP  10.77.0.1:9")
	ours := func(s ipvs.Stats) []uint64 {
		return []uint64{s.Connections, s.PacketsIn, s.PacketsOut, s.BytesIn, s.BytesOut}
	}
	if diff := cmp.Diff(refService, ours(got.Stats)); diff != "" {
		t.Errorf("service counters against the reference's (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(refDest, ours(dests[0].Stats)); diff != "" {
		t.Errorf("destination counters against the reference's (-want +got):\n%s", diff)
	}
	if dests[0].InactiveConnections+dests[0].ActiveConnections != 1 {
		t.Errorf("destination connections: want 1, got %+v", dests[0])
	}

	if err := c.ZeroService(svc); err != nil {
		t.Fatalf("ZeroService: %v", err)
	}
	refService, refDest = referenceCounters(t, runReference(t, "-Ln", "--stats", "--exact"), "UDP  10.77.0.1:9")
	if diff := cmp.Diff([]uint64{0, 0, 0, 0, 0}, refService); diff != "" {
		t.Errorf("service counters after zeroing, as the reference reads them (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{0, 0, 0, 0, 0}, refDest); diff != "" {
		t.Errorf("destination counters after zeroing (-want +got):\n%s", diff)
	}
	if err := c.ZeroAll(); err != nil {
		t.Fatalf("ZeroAll: %v", err)
	}
}

// setupDummyRoute gives the VM a dummy interface for 10.77.0.0/24, so that
// datagrams to a virtual service there pass IPVS and are dropped, never
// leaving the machine.
func setupDummyRoute(t *testing.T) {
	t.Helper()
	for _, args := range [][]string{
		{"link", "add", "ipvsdummy0", "type", "dummy"},
		{"addr", "add", "10.77.0.254/24", "dev", "ipvsdummy0"},
		{"link", "set", "ipvsdummy0", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", "ipvsdummy0").Run() })
}

// referenceCounters reads the five counters of a service line and of the
// destination line after it from `ipvsadm -Ln --stats --exact`.
func referenceCounters(t *testing.T, listing, service string) (svc, dest []uint64) {
	t.Helper()
	lines := strings.Split(listing, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, service) {
			continue
		}
		svc = counters(t, line)
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ->") {
			dest = counters(t, lines[i+1])
		}
		return svc, dest
	}
	t.Fatalf("no line for %q in:\n%s", service, listing)
	return nil, nil
}

func counters(t *testing.T, line string) []uint64 {
	t.Helper()
	fields := strings.Fields(line)
	if len(fields) < 5 {
		t.Fatalf("short stats line %q", line)
	}
	var values []uint64
	for _, f := range fields[len(fields)-5:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			t.Fatalf("stats line %q: %v", line, err)
		}
		values = append(values, v)
	}
	return values
}
