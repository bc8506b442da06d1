//go:build linux

package ipvstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// These tests look at the socket datagram by datagram, which a
// netlink.Conn hides. Requests are built with netlink's encoder, not with
// this package's.

func testSocket(k *Kernel) *socket {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.nextPort++
	return &socket{k: k, port: k.nextPort}
}

func reqMsg(t *testing.T, cmd uint8, flags netlink.HeaderFlags, seq uint32, as ...netlink.Attribute) netlink.Message {
	t.Helper()
	b, err := netlink.MarshalAttributes(as)
	if err != nil {
		t.Fatal(err)
	}
	m := netlink.Message{
		Header: netlink.Header{Type: ipvsFamilyID, Flags: flags, Sequence: seq},
		Data:   append([]byte{cmd, 1, 0, 0}, b...),
	}
	m.Header.Length = uint32(nlmsgHdrLen + len(m.Data))
	return m
}

// serviceAttr is a NEW_SERVICE request body for TCP 10.0.0.1:port.
func serviceAttr(port uint16) netlink.Attribute {
	le16 := func(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }
	le32 := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	as := []netlink.Attribute{
		{Type: 1, Data: le16(2)},
		{Type: 2, Data: le16(6)},
		{Type: 3, Data: []byte{10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{Type: 4, Data: []byte{byte(port >> 8), byte(port)}},
		{Type: 6, Data: []byte("rr\x00")},
		{Type: 7, Data: []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}},
		{Type: 8, Data: le32(0)},
		{Type: 9, Data: []byte{0xff, 0xff, 0xff, 0xff}},
	}
	b, _ := netlink.MarshalAttributes(as)
	return netlink.Attribute{Type: 1 | netlink.Nested, Data: b}
}

// datagram receives one datagram as raw messages.
func datagram(t *testing.T, s *socket) []netlink.Message {
	t.Helper()
	msgs, err := s.Receive()
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return msgs
}

func errnoIn(m netlink.Message) int32 {
	return int32(binary.NativeEndian.Uint32(m.Data))
}

func TestSocketAcks(t *testing.T) {
	k := New()
	s := testSocket(k)

	ok := reqMsg(t, cmdNewService, netlink.Request|netlink.Acknowledge, 7, serviceAttr(80))
	bad := reqMsg(t, cmdNewService, netlink.Request|netlink.Acknowledge, 8, serviceAttr(80))
	if err := s.SendMessages([]netlink.Message{ok, bad}); err != nil {
		t.Fatal(err)
	}
	okBytes, _ := ok.MarshalBinary()
	badBytes, _ := bad.MarshalBinary()

	// Success: errno 0 and the request's header, NLM_F_CAPPED.
	got := datagram(t, s)
	want := []netlink.Message{{
		Header: netlink.Header{Length: 36, Type: netlink.Error, Flags: netlink.Capped, Sequence: 7, PID: s.port},
		Data:   append([]byte{0, 0, 0, 0}, okBytes[:16]...),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("success ack (-want +got):\n%s", diff)
	}

	// Failure: -errno and the whole request.
	got = datagram(t, s)
	eexist := -int32(unix.EEXIST)
	code := binary.NativeEndian.AppendUint32(nil, uint32(eexist))
	want = []netlink.Message{{
		Header: netlink.Header{Length: uint32(20 + len(badBytes)), Type: netlink.Error, Sequence: 8, PID: s.port},
		Data:   append(code, badBytes...),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error ack (-want +got):\n%s", diff)
	}

	// With NETLINK_CAP_ACK only the header comes back.
	if err := s.SetOption(netlink.CapAcknowledge, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(bad); err != nil {
		t.Fatal(err)
	}
	got = datagram(t, s)
	if len(got) != 1 || got[0].Header.Flags != netlink.Capped || len(got[0].Data) != 20 || errnoIn(got[0]) != -int32(unix.EEXIST) {
		t.Errorf("capped error ack: %+v", got)
	}

	if _, err := s.Receive(); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("receive on an empty socket: %v, want EAGAIN", err)
	}
}

func TestSocketBatchEveryRequestAnswered(t *testing.T) {
	k := New()
	s := testSocket(k)
	batch := []netlink.Message{
		reqMsg(t, cmdNewService, netlink.Request|netlink.Acknowledge, 1, serviceAttr(80)),
		reqMsg(t, cmdNewService, netlink.Request|netlink.Acknowledge, 2, serviceAttr(80)), // exists
		reqMsg(t, cmdNewService, netlink.Request, 3, serviceAttr(81)),                     // no ack asked
		reqMsg(t, cmdNewService, netlink.Request, 4, serviceAttr(81)),                     // fails: acked anyway
		reqMsg(t, cmdNewService, netlink.Request|netlink.Acknowledge, 5, serviceAttr(82)),
	}
	if err := s.SendMessages(batch); err != nil {
		t.Fatal(err)
	}
	type ack struct {
		Seq   uint32
		Errno int32
	}
	var got []ack
	for {
		msgs, err := s.Receive()
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 {
			t.Fatalf("datagram with %d messages, want 1", len(msgs))
		}
		got = append(got, ack{msgs[0].Header.Sequence, errnoIn(msgs[0])})
	}
	want := []ack{{1, 0}, {2, -int32(unix.EEXIST)}, {4, -int32(unix.EEXIST)}, {5, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("acks (-want +got):\n%s", diff)
	}
	if n := len(k.services); n != 3 || k.Writes() != 3 {
		t.Errorf("%d services and %d writes, want 3 and 3", n, k.Writes())
	}
}

func TestSocketDumpChunks(t *testing.T) {
	k := New()
	s := testSocket(k)
	const n = 40
	for i := range n {
		if err := s.Send(reqMsg(t, cmdNewService, netlink.Request, uint32(i+1), serviceAttr(uint16(1000+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.queue) != 0 {
		t.Fatalf("unexpected replies: %d", len(s.queue))
	}

	if err := s.Send(reqMsg(t, cmdGetService, netlink.Request|netlink.Dump|netlink.Acknowledge, 99)); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	services := 0
	for done := false; !done; {
		k.mu.Lock()
		size := len(s.queue[0])
		k.mu.Unlock()
		msgs := datagram(t, s)
		sizes = append(sizes, size)
		if size > dumpDatagramSize {
			t.Errorf("datagram of %d bytes, more than %d", size, dumpDatagramSize)
		}
		for _, m := range msgs {
			if m.Header.Sequence != 99 || m.Header.PID != s.port || m.Header.Flags&netlink.Multi == 0 {
				t.Fatalf("message header %+v", m.Header)
			}
			switch m.Header.Type {
			case ipvsFamilyID:
				if done {
					t.Fatal("service after NLMSG_DONE")
				}
				services++
			case netlink.Done:
				if len(msgs) != 1 || len(m.Data) != 4 || errnoIn(m) != 0 {
					t.Fatalf("NLMSG_DONE shares its datagram or carries %x", m.Data)
				}
				done = true
			default:
				t.Fatalf("message type %v", m.Header.Type)
			}
		}
	}
	if services != n {
		t.Errorf("%d services dumped, want %d", services, n)
	}
	if len(sizes) < 4 {
		t.Errorf("datagram sizes %v: want the dump spread over several", sizes)
	}
	// A dump is not acknowledged, even with NLM_F_ACK.
	if _, err := s.Receive(); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("after NLMSG_DONE: %v, want EAGAIN", err)
	}
}

func TestSocketDumpInterleaving(t *testing.T) {
	k := New()
	s := testSocket(k)
	for i := range 30 {
		if err := s.Send(reqMsg(t, cmdNewService, netlink.Request, 1, serviceAttr(uint16(2000+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send(reqMsg(t, cmdGetService, netlink.Request|netlink.Dump, 10)); err != nil {
		t.Fatal(err)
	}
	first := datagram(t, s)
	// Like the kernel, the dump produces its next datagram only when one
	// is read; a request in between is answered in between.
	if err := s.SendMessages([]netlink.Message{
		reqMsg(t, cmdGetInfo, netlink.Request, 11),
		reqMsg(t, cmdGetService, netlink.Request|netlink.Dump, 12),
	}); err != nil {
		t.Fatal(err)
	}
	var trace []string
	trace = append(trace, fmt.Sprintf("%d:%v", first[0].Header.Sequence, first[0].Header.Type))
	for {
		msgs, err := s.Receive()
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entry := fmt.Sprintf("%d:%v", msgs[0].Header.Sequence, msgs[0].Header.Type)
		if msgs[0].Header.Type == netlink.Error {
			entry += fmt.Sprintf("(%d)", errnoIn(msgs[0]))
		}
		trace = append(trace, entry)
	}
	svc := fmt.Sprint(netlink.HeaderType(ipvsFamilyID))
	want := []string{
		"10:" + svc,
		"10:" + svc, // produced when the first was read
		"11:" + svc, // GET_INFO's reply
		fmt.Sprintf("12:error(%d)", -int32(unix.EBUSY)), // one dump at a time
		"10:" + svc, "10:done",
	}
	if diff := cmp.Diff(want, trace); diff != "" {
		t.Errorf("datagrams (-want +got):\n%s", diff)
	}
}

func TestSocketGetWithAckSendsReplyThenAck(t *testing.T) {
	k := New()
	s := testSocket(k)
	if err := s.Send(reqMsg(t, cmdGetConfig, netlink.Request|netlink.Acknowledge, 5)); err != nil {
		t.Fatal(err)
	}
	reply := datagram(t, s)
	ack := datagram(t, s)
	if len(reply) != 1 || reply[0].Header.Type != ipvsFamilyID || reply[0].Header.Flags != 0 || reply[0].Data[0] != cmdSetConfig {
		t.Errorf("reply: %+v", reply)
	}
	if len(ack) != 1 || ack[0].Header.Type != netlink.Error || errnoIn(ack[0]) != 0 {
		t.Errorf("ack: %+v", ack)
	}
}

func TestSocketGenlErrors(t *testing.T) {
	ack := netlink.Request | netlink.Acknowledge
	// raw lays out a message by hand; its length need not be aligned.
	raw := func(typ netlink.HeaderType, flags netlink.HeaderFlags, data ...byte) []byte {
		b := binary.NativeEndian.AppendUint32(nil, uint32(16+len(data)))
		b = binary.NativeEndian.AppendUint16(b, uint16(typ))
		b = binary.NativeEndian.AppendUint16(b, uint16(flags))
		b = binary.NativeEndian.AppendUint32(b, 1)
		b = binary.NativeEndian.AppendUint32(b, 0)
		return append(b, data...)
	}
	marshal := func(m netlink.Message) []byte {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		msg  []byte
		want []int32 // errnos of the answers, in order; none when empty
	}{
		{"command 0", marshal(reqMsg(t, 0, ack, 1)), []int32{-int32(unix.EOPNOTSUPP)}},
		{"SET_INFO has no handler", marshal(reqMsg(t, cmdSetInfo, ack, 1)), []int32{-int32(unix.EOPNOTSUPP)}},
		{"command 18", marshal(reqMsg(t, 18, ack, 1)), []int32{-int32(unix.EOPNOTSUPP)}},
		{"command 18 with reserved bits", raw(ipvsFamilyID, ack, 18, 1, 1, 0), []int32{-int32(unix.EINVAL)}},
		{"FLUSH ignores reserved bits", raw(ipvsFamilyID, ack, cmdFlush, 1, 1, 0), []int32{0}},
		{"short genl header", raw(ipvsFamilyID, ack, cmdFlush, 1), []int32{-int32(unix.EINVAL)}},
		{"no genl header, no ack asked", raw(ipvsFamilyID, netlink.Request), []int32{-int32(unix.EINVAL)}},
		{"unknown family", raw(0x7777, netlink.Request, 1, 1, 0, 0), []int32{-int32(unix.ENOENT)}},
		{"not a request", raw(ipvsFamilyID, netlink.Acknowledge, cmdFlush, 1, 0, 0), []int32{0}},
		{"not a request, no ack", raw(ipvsFamilyID, 0, cmdFlush, 1, 0, 0), nil},
		{"control message", raw(netlink.Noop, ack), []int32{0}},
		{"top-level nest too short", marshal(reqMsg(t, cmdNewService, ack, 1, netlink.Attribute{Type: 1, Data: []byte{1}})), []int32{-int32(unix.ERANGE)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := New()
			s := testSocket(k)
			if err := k.deliver(s, tt.msg); err != nil {
				t.Fatal(err)
			}
			var got []int32
			for {
				msgs, err := s.Receive()
				if errors.Is(err, unix.EAGAIN) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, errnoIn(msgs[0]))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSocketTruncatedMessageEndsDatagram(t *testing.T) {
	k := New()
	s := testSocket(k)
	first := reqMsg(t, cmdFlush, netlink.Request|netlink.Acknowledge, 1)
	b1, _ := first.MarshalBinary()
	b2, _ := reqMsg(t, cmdFlush, netlink.Request|netlink.Acknowledge, 2).MarshalBinary()
	binary.NativeEndian.PutUint32(b2, 1000) // claims more than there is
	if err := k.deliver(s, append(b1, b2...)); err != nil {
		t.Fatal(err)
	}
	if got := datagram(t, s); got[0].Header.Sequence != 1 {
		t.Fatalf("first answer %+v", got)
	}
	if _, err := s.Receive(); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("truncated message answered: %v", err)
	}
}

func TestSocketClose(t *testing.T) {
	k := New()
	s := testSocket(k)
	if err := s.Send(reqMsg(t, cmdFlush, netlink.Request|netlink.Acknowledge, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("receive after close: %v", err)
	}
	if err := s.Send(reqMsg(t, cmdFlush, netlink.Request, 2)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("send after close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
}
