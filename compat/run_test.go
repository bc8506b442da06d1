package compat_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
)

const cannotInit = "Are you sure that IP Virtual Server is built in the kernel or as module?\n"

// TestInitRetriesOnceAfterModprobe follows ipvsadm's start-up: when IPVS
// cannot be initialised it runs modprobe once, retries only if modprobe
// succeeded, and otherwise fails with status 2.
func TestInitRetriesOnceAfterModprobe(t *testing.T) {
	tests := []struct {
		name        string
		dialErrs    []error // what each dial answers, then a working kernel
		modprobeErr error
		wantDials   int
		wantStatus  int
		wantStderr  string
	}{
		{
			name: "loaded by modprobe", dialErrs: []error{ipvs.ErrFamilyNotFound},
			wantDials: 2, wantStatus: 0,
		},
		{
			name: "modprobe fails", dialErrs: []error{ipvs.ErrFamilyNotFound}, modprobeErr: errors.New("exit status 1"),
			wantDials: 1, wantStatus: 2,
			wantStderr: "Can't initialize ipvs: Protocol not available\n" + cannotInit,
		},
		{
			name: "still no IPVS", dialErrs: []error{ipvs.ErrFamilyNotFound, ipvs.ErrFamilyNotFound},
			wantDials: 2, wantStatus: 2,
			wantStderr: "Can't initialize ipvs: Protocol not available\n" + cannotInit,
		},
		{
			name: "not root", dialErrs: []error{&ipvs.Error{Command: ipvs.CmdGetInfo, Err: syscall.EPERM}, &ipvs.Error{Command: ipvs.CmdGetInfo, Err: syscall.EPERM}},
			wantDials: 2, wantStatus: 2,
			wantStderr: "Can't initialize ipvs: Permission denied (you must be root)\n" + cannotInit,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			dials := 0
			env := compat.Env{
				Args:   []string{"ipvsadm", "-Sn"},
				Stdin:  strings.NewReader(""),
				Stdout: &stdout, Stderr: &stderr,
				Dial: func() (*ipvs.Client, error) {
					dials++
					if dials <= len(tt.dialErrs) {
						return nil, tt.dialErrs[dials-1]
					}
					return ipvs.NewFromConn(ipvstest.New().Dial())
				},
				Modprobe: func() error { return tt.modprobeErr },
				Names:    compat.FileNames(nil, nil),
			}
			status := compat.Main(env)
			if status != tt.wantStatus || dials != tt.wantDials {
				t.Errorf("status %d after %d dials; want %d after %d", status, dials, tt.wantStatus, tt.wantDials)
			}
			if diff := cmp.Diff(tt.wantStderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHelpNeedsNoKernel: one of the README's differences from 1.31, which
// initialises IPVS before it reads -h or -v.
func TestHelpNeedsNoKernel(t *testing.T) {
	for _, arg := range []string{"-h", "-v", "--help", "--version"} {
		var stdout, stderr bytes.Buffer
		env := compat.Env{
			Args: []string{"ipvsadm", arg}, Stdout: &stdout, Stderr: &stderr,
			Dial: func() (*ipvs.Client, error) { return nil, ipvs.ErrFamilyNotFound },
		}
		if status := compat.Main(env); status != 0 || stderr.Len() != 0 || !strings.HasPrefix(stdout.String(), "ipvsadm v1.31 2019/12/24") {
			t.Errorf("ipvsadm %s without IPVS: status %d, stdout %.40q, stderr %q", arg, status, stdout.String(), stderr.String())
		}
	}
}

// TestRestoreInBatchesKeepsLineOrder restores more lines than one batch
// holds, with failing lines among them: every line's message comes out in
// line order, between the outputs of the listing lines, and the status is
// the last line's, as in ipvsadm's line-by-line restore.
func TestRestoreInBatchesKeepsLineOrder(t *testing.T) {
	var input, wantStdout, wantStderr strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&input, "-A -t 10.%d.%d.1:80 -s rr\n", i/250, i%250)
		switch {
		case i%500 == 499:
			// The kernel refuses the line: the restore goes on.
			fmt.Fprintf(&input, "-A -t 10.%d.%d.1:80 -s rr\n", i/250, i%250)
			wantStderr.WriteString("Service already exists\n")
		case i == 1234:
			// A listing line sees every line before it applied.
			input.WriteString("-L -n -t 10.4.234.1:80\n")
			wantStdout.WriteString("Prot LocalAddress:Port Scheduler Flags\n" +
				"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
				"TCP  10.4.234.1:80 rr\n")
		case i == 2000:
			// A popt error: the line fails, the restore goes on.
			input.WriteString("-a -t 10.0.0.1:80 -r\n")
			wantStderr.WriteString("-r: missing argument\n")
		}
	}
	input.WriteString("-a -t 10.9.9.9:80 -r 10.0.0.1\n") // the last line fails
	wantStderr.WriteString("Service not defined\n")

	k := ipvstest.New()
	var stdout, stderr bytes.Buffer
	status := compat.Main(compat.Env{
		Args:   []string{"ipvsadm", "-R"},
		Stdin:  strings.NewReader(input.String()),
		Stdout: &stdout, Stderr: &stderr,
		Dial:  func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.Dial()) },
		Names: compat.FileNames(nil, nil),
	})
	if status != 255 {
		t.Errorf("status %d, want 255 (the last line failed)", status)
	}
	if diff := cmp.Diff(wantStdout.String(), stdout.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantStderr.String(), stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	c, err := ipvs.NewFromConn(k.Dial())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if services, err := c.Services(); err != nil || len(services) != 3000 {
		t.Errorf("%d services (%v), want 3000", len(services), err)
	}
}

// TestListingStopsAtServiceWhoseDestinationsFail follows ipvsadm's -L and
// -S when getting a service's destinations fails: the services before it
// in listing order are printed whole, then the message, exit status 1.
// The listing streams the destinations of 600 services (of 0 to 3
// destinations), two dumps in flight; every dump from the k-th on fails.
func TestListingStopsAtServiceWhoseDestinationsFail(t *testing.T) {
	k := ipvstest.New()
	var input strings.Builder
	for i := range 600 {
		// Added in an order that is not the listing's.
		svc := fmt.Sprintf("-t 10.%d.%d.1:80", (i*7)%600/250, (i*7)%600%250)
		fmt.Fprintf(&input, "-A %s -s wlc\n", svc)
		for j := range i % 4 {
			fmt.Fprintf(&input, "-a %s -r 192.0.2.%d:8080 -m -w %d\n", svc, 10-j, j+1)
		}
	}
	ipvsadm := func(stdin string, args ...string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		status := compat.Main(compat.Env{
			Args:   append([]string{"ipvsadm"}, args...),
			Stdin:  strings.NewReader(stdin),
			Stdout: &stdout, Stderr: &stderr,
			Dial:  func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.Dial()) },
			Names: compat.FileNames(nil, nil),
		})
		return stdout.String(), stderr.String(), status
	}
	if _, stderr, status := ipvsadm(input.String(), "-R"); status != 0 {
		t.Fatalf("restore: status %d, %s", status, stderr)
	}
	for _, args := range [][]string{{"-Ln"}, {"-Sn"}, {"-Ln", "--nosort", "--stats"}} {
		whole, _, status := ipvsadm("", args...)
		if status != 0 {
			t.Fatalf("%v: status %d", args, status)
		}
		// Where each service's lines start in the whole listing.
		var starts []int
		for i, line := range strings.SplitAfter(whole, "\n") {
			if strings.HasPrefix(line, "TCP ") || strings.HasPrefix(line, "-A ") {
				starts = append(starts, i)
			}
		}
		if len(starts) != 600 {
			t.Fatalf("%v: %d services listed, want 600", args, len(starts))
		}
		for _, failFrom := range []int{1, 2, 3, 300, 600} {
			var dumps atomic.Int64
			k.SetFault(func(r ipvstest.Request) error {
				if r.Command == uint8(ipvs.CmdGetDestination) {
					if dumps.Add(1) >= int64(failFrom) {
						return syscall.ENOMEM
					}
				}
				return nil
			})
			stdout, stderr, status := ipvsadm("", args...)
			k.SetFault(nil)
			if status != 1 || stderr != "Memory allocation problem\n" {
				t.Errorf("%v, dumps failing from the %dth: status %d, stderr %q; want 1, the message", args, failFrom, status, stderr)
			}
			// Two dumps are in flight: the failing one is the
			// (failFrom-1)th or the failFrom-th service in order.
			lines := strings.SplitAfter(whole, "\n")
			ok := false
			for listed := failFrom - 2; listed <= failFrom-1; listed++ {
				if listed >= 0 && stdout == strings.Join(lines[:starts[listed]], "") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%v, dumps failing from the %dth: stdout is not the whole listing up to the service before the failing one:\n%s", args, failFrom, stdout)
			}
		}
	}
}

// TestRestoreInputLikeItsReader: 1.31 reads a restore token into a buffer
// of 4,096 bytes, and the rest of a longer one is the next token (found in
// the VM: "-s" and 5,000 r's is a scheduler of 4,096 r's and an unexpected
// argument of 904); its ipvsadm-restore reads its input through bash, which
// drops NUL bytes with a warning.
func TestRestoreInputLikeItsReader(t *testing.T) {
	long := strings.Repeat("r", 5000)
	if got, want := compat.SplitLine("-s "+long+" ipvsadm"), []string{"-s", long[:4096], long[4096:]}; !cmp.Equal(want, got) {
		t.Errorf("SplitLine of a 5,000-byte token: %d tokens, want the first 4,096 bytes and the rest", len(got))
	}
	var stdout, stderr bytes.Buffer
	k := ipvstest.New()
	status := compat.RestoreMain(compat.Env{
		Args:   []string{"/sbin/ipvsadm-restore"},
		Stdin:  strings.NewReader("-A -t 10.0.0.1:80\x00 -s rr\n"),
		Stdout: &stdout, Stderr: &stderr,
		Dial:  func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.Dial()) },
		Names: compat.FileNames(nil, nil),
	})
	want := "/sbin/ipvsadm-restore: line 23: warning: command substitution: ignored null byte in input\n"
	if status != 0 || stderr.String() != want {
		t.Errorf("status %d, stderr %q; want 0, %q", status, stderr.String(), want)
	}
}
