package ipvs_test

import (
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
)

// TestReadServicesOfATableThatKeepsChanging: another client removes a
// service between every two datagrams of a dump, so that no two dumps
// agree and each is shifted; ReadServices must still return each of the 2,000
// services that stay, once, from the union of its dumps.
func TestReadServicesOfATableThatKeepsChanging(t *testing.T) {
	k := ipvstest.New()
	c, err := ipvs.NewFromConn(k.Dial())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	service := func(net, i int) ipvs.Service {
		return ipvs.Service{Protocol: ipvs.UDP, Address: netip.AddrFrom4([4]byte{10, byte(net), byte(i / 250), byte(i % 250)}), Port: 53, Scheduler: "rr"}
	}
	var ops []ipvs.Op
	for i := range 2000 {
		// The services that go are before those that stay.
		ops = append(ops, ipvs.Op{Command: ipvs.CmdNewService, Service: service(0, i)})
	}
	for i := range 2000 {
		ops = append(ops, ipvs.Op{Command: ipvs.CmdNewService, Service: service(1, i)})
	}
	if err := c.Apply(ops, func(_ int, err error) bool { return err == nil }); err != nil {
		t.Fatal(err)
	}
	other, err := ipvs.NewFromConn(k.Dial())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var dumps, removed atomic.Int64
	k.SetFault(func(r ipvstest.Request) error {
		if r.Command == uint8(ipvs.CmdGetService) && r.Dump {
			dumps.Add(1)
		}
		return nil
	})
	k.SetBetweenDatagrams(func() error {
		n := int(removed.Add(1)) - 1
		other.Apply([]ipvs.Op{{Command: ipvs.CmdDelService, Service: service(0, n)}}, func(int, error) bool { return true })
		return nil
	})
	list, err := c.ReadServices()
	k.SetFault(nil)
	k.SetBetweenDatagrams(nil)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for i := range list.Len() {
		count[list.At(i).Service.String()]++
	}
	for i := range 2000 {
		s := service(1, i)
		if got := count[s.String()]; got != 1 {
			t.Errorf("%v listed %d times, want once", s, got)
		}
	}
	for name, n := range count {
		if n != 1 {
			t.Errorf("%s listed %d times", name, n)
		}
	}
	t.Logf("%d dumps, %d services removed meanwhile", dumps.Load(), removed.Load())
	if dumps.Load() < 2 {
		t.Errorf("%d dumps: the check did not run", dumps.Load())
	}
}
