//go:build linux

package ipvstest_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// answers reads one answer per request of a batch through netlink.Conn,
// as a client would, and returns the errno of each.
func (c *tconn) answers(n int) []unix.Errno {
	c.t.Helper()
	var out []unix.Errno
	for range n {
		_, err := c.c.Receive()
		out = append(out, errnoOf(c.t, err))
	}
	return out
}

func TestBatchFailingMiddle(t *testing.T) {
	k := ipvstest.New()
	c := dial(t, k)
	a := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	b := svcID(unix.IPPROTO_TCP, "10.0.0.2", 80)
	sent, err := c.c.SendMessages([]netlink.Message{
		c.msg(cNewService, reqAck, nest(aService, full(a, "rr")...)),
		c.msg(cNewDest, reqAck, nest(aService, a...), nest(aDest, destAttrs("192.168.0.1", 80, fwdRoute, 1)...)),
		c.msg(cNewDest, reqAck, nest(aService, b...), nest(aDest, destAttrs("192.168.0.1", 80, fwdRoute, 1)...)),
		c.msg(cNewService, reqAck, nest(aService, full(b, "rr")...)),
	})
	if err != nil {
		t.Fatal(err)
	}

	var seqs []uint32
	var errnos []unix.Errno
	for range sent {
		msgs, err := c.c.Receive()
		var oe *netlink.OpError
		switch {
		case errors.As(err, &oe):
			seqs = append(seqs, oe.Sequence)
		case err == nil && len(msgs) == 1:
			seqs = append(seqs, msgs[0].Header.Sequence)
		default:
			t.Fatalf("receive: %v %+v", err, msgs)
		}
		errnos = append(errnos, errnoOf(t, err))
	}
	wantSeqs := []uint32{sent[0].Header.Sequence, sent[1].Header.Sequence, sent[2].Header.Sequence, sent[3].Header.Sequence}
	if diff := cmp.Diff(wantSeqs, seqs); diff != "" {
		t.Errorf("answer sequence numbers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]unix.Errno{0, 0, unix.ESRCH, 0}, errnos); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if got := len(c.services()); got != 2 {
		t.Errorf("%d services, want 2", got)
	}
	if got := k.Writes(); got != 3 {
		t.Errorf("Writes() = %d, want 3", got)
	}
}

func TestFaultHook(t *testing.T) {
	k := ipvstest.New()
	c := dial(t, k)
	var seen []ipvstest.Request
	k.SetFault(func(r ipvstest.Request) error {
		seen = append(seen, r)
		switch r.Seq {
		case 3:
			return unix.ENOMEM
		case 4:
			return fmt.Errorf("wrapped: %w", unix.EPERM)
		case 5:
			return errors.New("not an errno")
		}
		return nil
	})

	a := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	id := func(port uint16) attr {
		return nest(aService, full(svcID(unix.IPPROTO_TCP, "10.0.0.1", port), "rr")...)
	}
	c.mustDo(cNewService, nest(aService, full(a, "rr")...))
	_ = c.dump(cGetService)
	if _, err := c.c.SendMessages([]netlink.Message{
		c.msg(cNewService, reqAck, id(81)),
		c.msg(cNewService, reqAck, id(82)),
		c.msg(cNewService, reqAck, id(83)),
		c.msg(cNewService, reqAck, id(84)),
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]unix.Errno{unix.ENOMEM, unix.EPERM, unix.EIO, 0}, c.answers(4)); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}

	want := []ipvstest.Request{
		{Seq: 1, Command: cNewService},
		{Seq: 2, Command: cGetService, Dump: true},
		{Seq: 3, Command: cNewService}, {Seq: 4, Command: cNewService},
		{Seq: 5, Command: cNewService}, {Seq: 6, Command: cNewService},
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("requests seen (-want +got):\n%s", diff)
	}

	// Family lookups do not reach the hook; a faulted dump fails whole.
	seen = nil
	dial(t, k)
	k.SetFault(func(r ipvstest.Request) error { return unix.EINTR })
	if _, err := c.exec(cGetService, reqDump); errnoOf(t, err) != unix.EINTR {
		t.Errorf("faulted dump: %v", err)
	}
	k.SetFault(nil)
	if got := len(c.services()); got != 2 {
		t.Errorf("%d services, want 2 (the faulted ones not applied)", got)
	}
	if len(seen) != 0 {
		t.Errorf("family lookup reached the hook: %+v", seen)
	}
	if got := k.Writes(); got != 2 {
		t.Errorf("Writes() = %d, want 2", got)
	}
}

func TestFaultHookMayUseKernel(t *testing.T) {
	k := ipvstest.New()
	c := dial(t, k)
	k.SetFault(func(r ipvstest.Request) error {
		if k.Writes() > 0 {
			return unix.ENOSPC
		}
		return nil
	})
	c.mustDo(cFlush)
	if got := c.do(cFlush); got != unix.ENOSPC {
		t.Fatalf("errno %v, want ENOSPC", got)
	}
}

func TestWritesCountsAppliedChanges(t *testing.T) {
	k := ipvstest.New()
	c := dial(t, k)
	a := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	dst := nest(aDest, destAttrs("192.168.0.1", 80, fwdRoute, 1)...)
	daemon := nest(aDaemon, u32a(mState, 1), stra(mIfn, "eth0"), u32a(mSyncID, 1))
	steps := []struct {
		cmd    uint8
		as     []attr
		counts bool
	}{
		{cNewService, []attr{nest(aService, full(a, "rr")...)}, true},
		{cNewService, []attr{nest(aService, full(a, "rr")...)}, false}, // EEXIST
		{cSetService, []attr{nest(aService, full(a, "wrr")...)}, true},
		{cNewDest, []attr{nest(aService, a...), dst}, true},
		{cSetDest, []attr{nest(aService, a...), dst}, true},
		{cDelDest, []attr{nest(aService, a...), dst}, true},
		{cDelDest, []attr{nest(aService, a...), dst}, false}, // ENOENT
		{cNewDaemon, []attr{daemon}, true},
		{cDelDaemon, []attr{daemon}, true},
		{cDelDaemon, []attr{daemon}, false}, // ESRCH
		{cSetConfig, []attr{u32a(aTCP, 5)}, true},
		{cZero, nil, true},
		{cZero, []attr{nest(aService, a...)}, true},
		{cDelService, []attr{nest(aService, a...)}, true},
		{cFlush, nil, true},
	}
	want := 0
	for i, st := range steps {
		errno := c.do(st.cmd, st.as...)
		if st.counts {
			want++
			if errno != 0 {
				t.Fatalf("step %d: %v", i, errno)
			}
		}
		if got := k.Writes(); got != want {
			t.Fatalf("step %d (command %d): Writes() = %d, want %d", i, st.cmd, got, want)
		}
	}
	_ = c.dump(cGetService)
	_ = c.dump(cGetDaemon)
	_, _ = c.get(cGetConfig)
	_, _ = c.get(cGetInfo)
	if got := k.Writes(); got != want {
		t.Fatalf("reading changed Writes() to %d", got)
	}
}

func TestConnectionsShareTheTable(t *testing.T) {
	k := ipvstest.New()
	const conns, each = 8, 20
	var wg sync.WaitGroup
	for i := range conns {
		c := dial(t, k)
		wg.Go(func() {
			for j := range each {
				id := svcID(unix.IPPROTO_TCP, fmt.Sprintf("10.0.%d.%d", i, j+1), 80)
				if errno := c.do(cNewService, nest(aService, full(id, "rr")...)); errno != 0 {
					t.Errorf("conn %d: %v", i, errno)
					return
				}
				if got := c.dump(cGetService); len(got) == 0 {
					t.Errorf("conn %d: empty dump", i)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := len(dial(t, k).services()); got != conns*each {
		t.Fatalf("%d services, want %d", got, conns*each)
	}
	if a, b := dial(t, k).c.PID(), dial(t, k).c.PID(); a == b {
		t.Fatalf("two connections share port ID %d", a)
	}
}

// TestMalformedRequestsAreAnswered throws random and mangled requests at
// the kernel: none may crash it, and each request asking for an
// acknowledgement gets an answer.
func TestMalformedRequestsAreAnswered(t *testing.T) {
	k := ipvstest.New()
	c := dial(t, k)
	a := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	c.mustDo(cNewService, nest(aService, full(a, "rr")...))
	seeds := [][]byte{
		encode(nest(aService, full(a, "rr")...), nest(aDest, destAttrs("192.168.0.1", 80, fwdRoute, 1)...)),
		encode(nest(aDaemon, u32a(mState, 1), stra(mIfn, "eth0"), u32a(mSyncID, 1), addra(mGroup6, "ff02::1"))),
		encode(u32a(aTCP, 1), u32a(aTCPFin, 2), u32a(aUDP, 3)),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		body := append([]byte(nil), seeds[i%len(seeds)]...)
		switch i % 3 {
		case 0: // flip bytes
			for range 1 + r.IntN(6) {
				body[r.IntN(len(body))] = byte(r.Uint32())
			}
		case 1: // cut short
			body = body[:r.IntN(len(body))]
		default: // noise
			body = make([]byte, r.IntN(64))
			for j := range body {
				body[j] = byte(r.Uint32())
			}
		}
		cmd := uint8(r.IntN(19))
		flags := reqAck
		if r.IntN(4) == 0 {
			flags |= netlink.Dump
		}
		m := netlink.Message{
			Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: flags},
			Data:   append([]byte{cmd, 1, 0, 0}, body...),
		}
		if _, err := c.c.Execute(m); err != nil {
			var errno unix.Errno
			if !errors.As(err, &errno) {
				t.Fatalf("request %d (cmd %d, %x): %v", i, cmd, body, err)
			}
		}
		// A GET answered with a reply also left its ack; drain it.
		for {
			if _, err := c.c.Receive(); errors.Is(err, unix.EAGAIN) {
				break
			}
		}
	}
}

func FuzzRequest(f *testing.F) {
	a := svcID(unix.IPPROTO_TCP, "10.0.0.1", 80)
	f.Add(uint8(cNewService), false, encode(nest(aService, full(a, "rr")...)))
	f.Add(uint8(cNewDest), false, encode(nest(aService, a...), nest(aDest, destAttrs("192.168.0.1", 80, fwdRoute, 1)...)))
	f.Add(uint8(cGetDest), true, encode(nest(aService, a...)))
	f.Add(uint8(cNewDaemon), false, encode(nest(aDaemon, u32a(mState, 2), stra(mIfn, "lo"), u32a(mSyncID, 1))))
	f.Fuzz(func(t *testing.T, cmd uint8, dump bool, body []byte) {
		c := dial(t, ipvstest.New())
		flags := reqAck
		if dump {
			flags |= netlink.Dump
		}
		_, _ = c.c.Execute(netlink.Message{
			Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: flags},
			Data:   append([]byte{cmd, 1, 0, 0}, body...),
		})
	})
}
