package systemd_test

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/rules"
)

// The tests in this file run the units on the real kernel in the VM (make
// vmtest), with our commands in /usr/local/sbin and the reference ipvsadm
// 1.31 at $IPVSADM_REFERENCE, which reads every table that is checked.

const sbin = "/usr/local/sbin"

// The files of a RHEL and a Debian host.
const (
	rhelRules    = "/etc/sysconfig/ipvsadm"
	rhelConfig   = "/etc/sysconfig/ipvsadm-config"
	debianRules  = "/etc/ipvsadm.rules"
	debianConfig = "/etc/default/ipvsadm"
)

// vmHost is the VM with the units installed.
type vmHost struct {
	ref       string   // the reference ipvsadm
	netns     []string // ip netns exec NAME, or nothing
	dir       string   // where the units are
	rules     *unit    // ipvsadm.service
	debian    *unit    // ipvsadm.service with debian.conf
	syncUnits *unit    // ipvsadm-sync.service
}

func newVMHost(t *testing.T) *vmHost {
	if os.Getenv("IPVS_VM") == "" {
		t.Skip("skipped: the boot service tests change /etc and the IPVS table, so they run only in the VM (make vmtest)")
	}
	h := &vmHost{ref: os.Getenv("IPVSADM_REFERENCE"), dir: t.TempDir()}
	if h.ref == "" {
		t.Fatal("IPVSADM_REFERENCE is not set")
	}
	install(t, h.dir, sbin)
	h.rules = loadUnit(t, filepath.Join(h.dir, "ipvsadm.service"))
	h.debian = loadUnit(t, filepath.Join(h.dir, "ipvsadm.service"), filepath.Join(h.dir, "debian.conf"))
	h.syncUnits = loadUnit(t, filepath.Join(h.dir, "ipvsadm-sync.service"))
	for _, dir := range []string{"/etc/sysconfig", "/etc/default"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	clean := func() {
		for _, f := range []string{rhelRules, rhelConfig, debianRules, debianConfig} {
			os.Remove(f)
		}
		h.refRun("-C")
		h.refRun("--stop-daemon", "master")
		h.refRun("--stop-daemon", "backup")
	}
	clean()
	t.Cleanup(clean)
	return h
}

// inNetns moves the host to a new network namespace, with lo up, for the
// rest of the test: a table of its own, and none of the destinations that
// other tests deleted, which the kernel keeps for minutes and searches on
// every destination it adds.
func (h *vmHost) inNetns(t *testing.T) {
	name := "systemd-test"
	exec.Command("ip", "netns", "del", name).Run()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	h.netns = []string{"ip", "netns", "exec", name}
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	for _, u := range []*unit{h.rules, h.debian, h.syncUnits} {
		u.wrap = h.netns
	}
}

// command is name with args, in the host's network namespace.
func (h *vmHost) command(name string, args ...string) *exec.Cmd {
	if len(h.netns) == 0 {
		return exec.Command(name, args...)
	}
	return exec.Command(h.netns[0], append(append(h.netns[1:], name), args...)...)
}

// refRun runs the reference and returns its stdout and stderr.
func (h *vmHost) refRun(args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	cmd := h.command(h.ref, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func (h *vmHost) refMust(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := h.refRun(args...)
	if err != nil || stderr != "" {
		t.Fatalf("reference ipvsadm %v: %v: %s", args, err, stderr)
	}
	return out
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustAct(t *testing.T, u *unit, action, want string) string {
	t.Helper()
	got := u.run(t, action)
	if got.Result != want {
		t.Fatalf("%s: %s, want %s; output:\n%s", action, got.Result, want, got.Output)
	}
	return got.Output
}

// bigSet is 10,000 services of 4 servers each.
func bigSet(t *testing.T) *rules.Set {
	set := &rules.Set{}
	schedulers := []string{"rr", "wrr", "wlc", "lc"}
	for i := range 10000 {
		s := rules.Service{Service: ipvs.Service{
			Family:    ipvs.IPv4,
			Protocol:  ipvs.TCP,
			Address:   netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)}),
			Port:      80,
			Scheduler: schedulers[i%4],
			Netmask:   0xffffffff,
		}}
		for d := range 4 {
			s.Destinations = append(s.Destinations, rules.Destination{Destination: ipvs.Destination{
				Family:     ipvs.IPv4,
				Address:    netip.AddrFrom4([4]byte{10, 200, byte(i / 250), byte(i%250 + 1)}),
				Port:       uint16(8080 + d),
				Forwarding: ipvs.Masquerade,
				Weight:     int32(d + 1),
			}})
		}
		set.Services = append(set.Services, s)
	}
	return set
}

func formatSet(t *testing.T, set *rules.Set) string {
	t.Helper()
	var b bytes.Buffer
	if err := rules.Format(&b, set, true, nil); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// serviceBlocks splits a listing into the lines of each service, by its
// service line, keeping the order.
func serviceBlocks(listing string) (order []string, blocks map[string]string) {
	blocks = make(map[string]string)
	current := ""
	for _, line := range strings.SplitAfter(listing, "\n") {
		if strings.HasPrefix(line, "TCP ") || strings.HasPrefix(line, "UDP ") || strings.HasPrefix(line, "FWM ") {
			current = strings.Fields(line)[1]
			order = append(order, current)
		}
		blocks[current] += line
	}
	return order, blocks
}

func TestBootServiceRHEL(t *testing.T) {
	h := newVMHost(t)
	h.inNetns(t)
	big := bigSet(t)
	bigText := formatSet(t, big)

	t.Run("start without a rules file empties the table", func(t *testing.T) {
		h.refMust(t, "-A", "-t", "10.9.9.9:80")
		mustAct(t, h.rules, "start", "done")
		if got := h.refMust(t, "-Sn"); got != "" {
			t.Errorf("table after start without %s:\n%s", rhelRules, got)
		}
	})

	t.Run("start restores 10,000 services of 4 servers", func(t *testing.T) {
		write(t, rhelRules, bigText)
		mustAct(t, h.rules, "start", "done")
		if diff := cmp.Diff(bigText, h.refMust(t, "-Sn")); diff != "" {
			t.Fatalf("reference -Sn after start (-file +table):\n%s", diff)
		}
	})

	t.Run("a kernel failure at line 5000 leaves the table as it was", func(t *testing.T) {
		beforeSave, beforeList := h.refMust(t, "-Sn"), h.refMust(t, "-Ln")
		lines := strings.SplitAfter(strings.ReplaceAll(bigText, "-w 4", "-w 9"), "\n")
		bad := "-A -t 10.255.0.1:80 -s nosuch\n" // no module ip_vs_nosuch
		lines = append(lines[:4999], append([]string{bad}, lines[4999:]...)...)
		write(t, rhelRules, strings.Join(lines, ""))
		out := mustAct(t, h.rules, "start", "failed")
		want := "ipvsadm-restore: line 5000 of /etc/sysconfig/ipvsadm: -A -t 10.255.0.1:80 -s nosuch\n" +
			"Scheduler or persistence engine not found\n" +
			"ipvsadm-restore: every change was undone, the table is as it was\n"
		if out != want {
			t.Errorf("output:\n%s\nwant:\n%s", out, want)
		}
		if diff := cmp.Diff(beforeSave, h.refMust(t, "-Sn")); diff != "" {
			t.Errorf("reference -Sn (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(beforeList, h.refMust(t, "-Ln")); diff != "" {
			t.Errorf("reference -Ln (-before +after):\n%s", diff)
		}
	})

	t.Run("reload changes only what was edited", func(t *testing.T) {
		// The table is bigText, as the rollback left it.
		before := h.refMust(t, "-Ln", "--nosort")

		edited := bigSet(t)
		touched := map[string]bool{}
		svc := func(i int) *rules.Service {
			s := &edited.Services[i]
			touched[s.Address.String()+":80"] = true
			return s
		}
		for _, i := range []int{10, 20, 30} {
			svc(i).Destinations[2].Weight = 7 // 3 writes
		}
		s := svc(40)
		s.Destinations = s.Destinations[:3] // 1
		s = svc(50)
		s.Destinations = append(s.Destinations, rules.Destination{Destination: ipvs.Destination{
			Family: ipvs.IPv4, Address: netip.MustParseAddr("10.201.0.1"), Port: 8080, Weight: 1,
		}}) // 1
		svc(60).Scheduler = "sh" // 1
		added := edited.Services[99]
		added.Address = netip.MustParseAddr("10.2.0.1")
		added.Destinations = added.Destinations[:2] // 3
		touched["10.2.0.1:80"] = true
		svc(70)
		edited.Services = append(append(edited.Services[:70:70], edited.Services[71:]...), added) // 1
		editedText := formatSet(t, edited)
		write(t, rhelRules, editedText)

		dryRun, err := h.command(sbin+"/ipvsadm-restore", "--sync", "--dry-run", rhelRules).Output()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("the plan:\n%s", dryRun)
		writes := testenv.CountIPVSWrites(t, func() { mustAct(t, h.rules, "reload", "done") })
		if writes != 10 {
			t.Errorf("reload made %d writes in the kernel, want 10", writes)
		}
		if diff := cmp.Diff(editedText, h.refMust(t, "-Sn")); diff != "" {
			t.Errorf("reference -Sn after reload (-file +table):\n%s", diff)
		}
		// Every service that was not edited is listed as before, in the
		// kernel's order, its servers too.
		after := h.refMust(t, "-Ln", "--nosort")
		keep := func(listing string) string {
			order, blocks := serviceBlocks(listing)
			var b strings.Builder
			for _, s := range order {
				if !touched[s] {
					b.WriteString(blocks[s])
				}
			}
			return b.String()
		}
		if diff := cmp.Diff(keep(before), keep(after)); diff != "" {
			t.Errorf("services that were not edited (-before +after):\n%s", diff)
		}
	})

	t.Run("reload of an unchanged file writes nothing", func(t *testing.T) {
		dryRun, err := h.command(sbin+"/ipvsadm-restore", "--sync", "--dry-run", rhelRules).Output()
		if err != nil || len(dryRun) != 0 {
			t.Errorf("--dry-run: %v, plan:\n%s", err, dryRun)
		}
		if writes := testenv.CountIPVSWrites(t, func() { mustAct(t, h.rules, "reload", "done") }); writes != 0 {
			t.Errorf("reload of an unchanged file made %d writes in the kernel", writes)
		}
	})

	t.Run("stop saves the table, then clears it", func(t *testing.T) {
		h.refMust(t, "-a", "-t", "10.1.0.1:80", "-r", "10.202.0.1:80", "-m")
		want := h.refMust(t, "-Sn")
		mustAct(t, h.rules, "stop", "done")
		got, err := os.ReadFile(rhelRules)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("%s after stop (-table +file):\n%s", rhelRules, diff)
		}
		if fi, err := os.Stat(rhelRules); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v (%v), want 0644 kept", rhelRules, fi.Mode().Perm(), err)
		}
		if got := h.refMust(t, "-Sn"); got != "" {
			t.Errorf("table after stop:\n%s", got)
		}
	})

	small := "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n-A -u 10.0.0.2:53 -s wlc\n"
	t.Run(`IPVS_SAVE_ON_STOP="no" only clears`, func(t *testing.T) {
		write(t, rhelRules, small)
		write(t, rhelConfig, "# from RHEL's package\nIPVS_MODULES_UNLOAD=\"yes\"\nIPVS_SAVE_ON_STOP=\"no\"\nIPVS_SAVE_ON_RESTART=\"no\"\n")
		mustAct(t, h.rules, "start", "done")
		h.refMust(t, "-D", "-t", "10.0.0.1:80")
		mustAct(t, h.rules, "stop", "done")
		if got, _ := os.ReadFile(rhelRules); string(got) != small {
			t.Errorf("%s changed at stop", rhelRules)
		}
		if got := h.refMust(t, "-Sn"); got != "" {
			t.Errorf("table after stop:\n%s", got)
		}
	})

	t.Run("ipvsadm-save --file onto a full disk keeps the old file", func(t *testing.T) {
		write(t, rhelRules, small)
		mustAct(t, h.rules, "start", "done")
		dir := t.TempDir()
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
			t.Fatal(err)
		}
		defer syscall.Unmount(dir, 0)
		old := "-A -t 10.0.0.1:80 -s rr\n"
		file := filepath.Join(dir, "ipvsadm")
		write(t, file, old)
		filler, _ := os.Create(filepath.Join(dir, "filler"))
		for {
			if _, err := filler.Write(make([]byte, 4096)); err != nil {
				break
			}
		}
		filler.Close()
		var stderr bytes.Buffer
		cmd := h.command(sbin+"/ipvsadm-save", "-n", "--file", file)
		cmd.Stderr = &stderr
		err := cmd.Run()
		t.Logf("ipvsadm-save: %v\n%s", err, stderr.String())
		if err == nil {
			t.Fatal("ipvsadm-save --file onto a full disk succeeded")
		}
		if !strings.Contains(stderr.String(), "no space left on device") || !strings.Contains(stderr.String(), file+" is unchanged") {
			t.Errorf("message does not say the disk is full and the file unchanged:\n%s", stderr.String())
		}
		if got, _ := os.ReadFile(file); string(got) != old {
			t.Errorf("%s is now %d bytes, want the old file", file, len(got))
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("files left on the full disk: %v, want only ipvsadm and filler", names)
		}
	})
}

func TestBootServiceDebian(t *testing.T) {
	h := newVMHost(t)
	rulesText := "# ipvsadm.rules\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n"
	write(t, debianRules, rulesText)

	t.Run(`AUTO="false" leaves the table alone`, func(t *testing.T) {
		write(t, debianConfig, "AUTO=\"false\"\nDAEMON=\"none\"\nIFACE=\"eth0\"\n# SYNCID=\"0\"\n")
		h.refMust(t, "-A", "-u", "10.0.0.5:53")
		mustAct(t, h.debian, "start", "skipped")
		mustAct(t, h.syncUnits, "start", "done")
		if got := h.refMust(t, "-Sn"); got != "-A -u 10.0.0.5:53 -s wlc\n" {
			t.Errorf("table:\n%s", got)
		}
		if got := h.refMust(t, "-L", "--daemon"); got != "" {
			t.Errorf("daemons with DAEMON=none:\n%s", got)
		}
	})

	t.Run(`AUTO="true" and DAEMON="both"`, func(t *testing.T) {
		write(t, debianConfig, "AUTO=\"true\"\nDAEMON=\"both\"\nIFACE=\"lo\"\nSYNCID=\"7\"\n")
		mustAct(t, h.debian, "start", "done")
		mustAct(t, h.syncUnits, "start", "done")
		if diff := cmp.Diff("-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n", h.refMust(t, "-Sn")); diff != "" {
			t.Errorf("table after start (-want +got):\n%s", diff)
		}
		daemons := h.refMust(t, "-L", "--daemon")
		for _, want := range []string{"master sync daemon (mcast=lo, syncid=7", "backup sync daemon (mcast=lo, syncid=7"} {
			if !strings.Contains(daemons, want) {
				t.Errorf("no %q in:\n%s", want, daemons)
			}
		}
		mustAct(t, h.syncUnits, "stop", "done")
		if got := h.refMust(t, "-L", "--daemon"); got != "" {
			t.Errorf("daemons after stop:\n%s", got)
		}
		h.refMust(t, "-A", "-t", "10.0.0.2:80")
		mustAct(t, h.debian, "stop", "done")
		if got := h.refMust(t, "-Sn"); got != "" {
			t.Errorf("table after stop:\n%s", got)
		}
		if got, _ := os.ReadFile(debianRules); string(got) != rulesText {
			t.Errorf("%s was saved at stop:\n%s", debianRules, got)
		}
	})
}
