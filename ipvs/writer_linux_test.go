//go:build linux

package ipvs_test

import (
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
)

func markService(mark int) ipvs.Service {
	return ipvs.Service{FirewallMark: uint32(mark), Scheduler: "rr", Netmask: 0xffffffff}
}

// TestApplyReportsEveryFailureOfFullWindows: the kernel answers every
// failed write at once, and answers beyond the socket's receive buffer are
// dropped (ipvstest models it): windows must be small enough that a window
// in which every write fails loses none of their errors.
func TestApplyReportsEveryFailureOfFullWindows(t *testing.T) {
	c, err := ipvs.NewFromConn(ipvstest.New().Dial())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ops := make([]ipvs.Op, 2000)
	for i := range ops {
		ops[i] = ipvs.Op{Command: ipvs.CmdDelService, Service: markService(i + 1)}
	}
	failed := 0
	err = c.Apply(ops, func(i int, err error) bool {
		if errors.Is(err, os.ErrNotExist) {
			failed++
		} else {
			t.Errorf("op %d: want ESRCH, got %v", i, err)
		}
		return true
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if failed != len(ops) {
		t.Errorf("%d of %d writes reported failing", failed, len(ops))
	}
}

// TestWriterReportsInOrderAsItGoes: a Writer reports each write once, in
// the order written, some while later writes are still being queued, and
// the rest at Flush; the kernel holds what was written.
func TestWriterReportsInOrderAsItGoes(t *testing.T) {
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.Dial())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const services = 1000
	var got []int
	var failures []int
	w := c.NewWriter(func(i int, err error) {
		got = append(got, i)
		if err != nil {
			failures = append(failures, i)
		}
	})
	for i := range services {
		if err := w.Write(ipvs.Op{Command: ipvs.CmdNewService, Service: markService(i%(services-10) + 1)}); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	reportedBeforeFlush := len(got)
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	want := make([]int, services)
	for i := range want {
		want[i] = i
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
	// The last 10 add services 1 to 10 again.
	if diff := cmp.Diff([]int{990, 991, 992, 993, 994, 995, 996, 997, 998, 999}, failures); diff != "" {
		t.Errorf("failed writes (-want +got):\n%s", diff)
	}
	if reportedBeforeFlush == 0 || reportedBeforeFlush == services {
		t.Errorf("%d of %d reported before Flush; want the windows before the last ones", reportedBeforeFlush, services)
	}
	list, err := c.Services()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != services-10 {
		t.Errorf("%d services in the table, want %d", len(list), services-10)
	}
}

// TestWriterRefusesMalformedWritesAlone: a malformed write is refused by
// Write, with no index; the writes around it go on.
func TestWriterRefusesMalformedWritesAlone(t *testing.T) {
	c, err := ipvs.NewFromConn(ipvstest.New().Dial())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []int
	w := c.NewWriter(func(i int, err error) {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
		got = append(got, i)
	})
	if err := w.Write(ipvs.Op{Command: ipvs.CmdNewService, Service: markService(1)}); err != nil {
		t.Fatal(err)
	}
	bad := ipvs.Op{Command: ipvs.CmdNewService, Service: ipvs.Service{Scheduler: "rr"}} // neither address nor mark
	if err := w.Write(bad); !errors.Is(err, ipvs.ErrInvalid) {
		t.Errorf("Write of a service without a key: want ErrInvalid, got %v", err)
	}
	if err := w.Write(ipvs.Op{Command: ipvs.CmdNewService, Service: markService(2)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 1}, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}
