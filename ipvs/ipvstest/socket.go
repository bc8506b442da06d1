//go:build linux

package ipvstest

import (
	"encoding/binary"
	"errors"
	"iter"
	"os"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// socket is one end of an emulated NETLINK_GENERIC socket: it implements
// netlink.Socket. What the client sends is marshalled to bytes and processed
// as netlink_rcv_skb does; what the kernel answers is queued as datagrams,
// one per Receive, as recvmsg returns them.
type socket struct {
	k    *Kernel
	port uint32 // the netlink port ID; stamped on every reply

	// Guarded by k.mu.
	closed bool
	queue  [][]byte   // datagrams waiting for Receive
	dump   *dumpState // a dump with datagrams still to produce
	capAck bool       // NETLINK_CAP_ACK: error acks echo only the header
	lost   error      // what the next Receive fails with (ENOBUFS)
}

// dumpState is the kernel's netlink_callback: which dump is running, for
// whom, and how far it got.
type dumpState struct {
	family uint16
	cmd    uint8
	seq    uint32
	port   uint32
	req    []byte // the request's attributes
	args   [2]int
}

// msgHeader is the part of a struct nlmsghdr the kernel acts on.
type msgHeader struct {
	typ   uint16
	flags uint16
	seq   uint32
}

func (h msgHeader) dump() bool { return h.flags&nlmDump == nlmDump }

// errDumpStarted tells netlink_rcv_skb's emulation that a dump answered the
// request, so no acknowledgement follows (the kernel's -EINTR).
var errDumpStarted = errors.New("dump started")

var _ netlink.Socket = (*socket)(nil)

// Close closes the socket; a dump in progress is abandoned.
func (s *socket) Close() error {
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	if s.closed {
		return os.ErrClosed
	}
	s.closed = true
	s.queue, s.dump = nil, nil
	return nil
}

// Send sends one message in one datagram.
func (s *socket) Send(m netlink.Message) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	return s.k.deliver(s, b)
}

// SendMessages sends the messages in one datagram, which the kernel
// processes in order.
func (s *socket) SendMessages(msgs []netlink.Message) error {
	var buf []byte
	for _, m := range msgs {
		b, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		buf = append(buf, b...)
	}
	return s.k.deliver(s, buf)
}

// Receive returns the messages of the next datagram.
func (s *socket) Receive() ([]netlink.Message, error) {
	var msgs []netlink.Message
	for m, err := range s.ReceiveIter() {
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// ReceiveIter yields the messages of the next datagram. Where a real socket
// would block because nothing is queued, it fails with EAGAIN, so that a
// client reading one reply too many fails its test instead of hanging it.
func (s *socket) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		b, err := s.next()
		if err != nil {
			yield(netlink.Message{}, err)
			return
		}
		for len(b) >= nlmsgHdrLen {
			l := align4(int(binary.NativeEndian.Uint32(b)))
			var m netlink.Message
			if err := m.UnmarshalBinary(b[:l]); err != nil {
				yield(netlink.Message{}, err)
				return
			}
			if !yield(m, nil) {
				return
			}
			b = b[l:]
		}
	}
}

// SetOption accepts the netlink socket options. Only CapAcknowledge changes
// what the emulation sends; extended acknowledgements carry no TLVs here
// (the IPVS handlers set none; only attribute policy failures would).
func (s *socket) SetOption(option netlink.ConnOption, enable bool) error {
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	if option == netlink.CapAcknowledge {
		s.capAck = enable
	}
	return nil
}

// next takes the next datagram off the queue. Like netlink_recvmsg, it then
// lets a running dump produce its next datagram.
func (s *socket) next() ([]byte, error) {
	k := s.k
	k.mu.Lock()
	if s.closed {
		k.mu.Unlock()
		return nil, os.ErrClosed
	}
	if err := s.lost; err != nil {
		// As sk_err, recvmsg reports it once.
		s.lost = nil
		k.mu.Unlock()
		return nil, err
	}
	if len(s.queue) == 0 {
		k.mu.Unlock()
		return nil, unix.EAGAIN
	}
	b := s.queue[0]
	s.queue = s.queue[1:]
	dumping, between := s.dump != nil, k.betweenDatagrams
	k.mu.Unlock()
	if dumping {
		// The kernel too lets go of its lock between datagrams.
		var err error
		if between != nil {
			err = between()
		}
		k.mu.Lock()
		switch {
		case err != nil:
			// The datagram could not be queued: the dump's rest is
			// lost, and the next read fails.
			s.dump, s.lost = nil, err
		case s.dump != nil:
			k.dumpNext(s)
		}
		k.mu.Unlock()
	}
	return b, nil
}

// deliver processes a datagram sent on s as netlink_rcv_skb does: message
// after message, each answered on its own, processing going on after one
// fails. A message whose length does not fit ends the datagram.
func (k *Kernel) deliver(s *socket, b []byte) error {
	k.mu.Lock()
	closed := s.closed
	k.mu.Unlock()
	if closed {
		return os.ErrClosed
	}
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			break
		}
		k.handle(s, b[:l])
		b = b[min(align4(l), len(b)):]
	}
	return nil
}

// handle answers one message.
func (k *Kernel) handle(s *socket, msg []byte) {
	h := msgHeader{
		typ:   binary.NativeEndian.Uint16(msg[4:]),
		flags: binary.NativeEndian.Uint16(msg[6:]),
		seq:   binary.NativeEndian.Uint32(msg[8:]),
	}
	// Only requests are handled, and control messages are skipped; both
	// are still acknowledged when asked.
	var err error
	if h.flags&nlmRequest != 0 && h.typ >= nlmsgMinType {
		err = k.genlRcv(s, h, msg)
	}
	if err == errDumpStarted {
		return
	}
	if h.flags&nlmAck != 0 || err != nil {
		k.mu.Lock()
		k.ack(s, h, msg, err)
		k.mu.Unlock()
	}
}

// genlRcv is genl_rcv_msg: route by family ID.
func (k *Kernel) genlRcv(s *socket, h msgHeader, msg []byte) error {
	switch h.typ {
	case genlIDCtrl:
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.ctrlRcv(s, h, msg)
	case ipvsFamilyID:
		return k.ipvsRcv(s, h, msg)
	}
	return unix.ENOENT
}

// ipvsRcv is genl_family_rcv_msg for IPVS, preceded by the fault hook.
func (k *Kernel) ipvsRcv(s *socket, h msgHeader, msg []byte) error {
	k.mu.Lock()
	k.requests++
	r := Request{Seq: k.requests, Dump: h.dump()}
	if len(msg) > nlmsgHdrLen {
		r.Command = msg[nlmsgHdrLen]
	}
	fault := k.fault
	k.mu.Unlock()
	if fault != nil {
		if err := fault(r); err != nil {
			var errno unix.Errno
			if errors.As(err, &errno) && errno != 0 {
				return errno
			}
			return unix.EIO
		}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if s.closed {
		return os.ErrClosed
	}
	if len(msg) < nlmsgHdrLen+genlHdrLen {
		return unix.EINVAL
	}
	cmd := msg[nlmsgHdrLen]
	if cmd >= cmdResvStart && binary.NativeEndian.Uint16(msg[nlmsgHdrLen+2:]) != 0 {
		return unix.EINVAL
	}
	op, ok := ipvsOps[cmd]
	if !ok {
		return unix.EOPNOTSUPP
	}
	payload := msg[nlmsgHdrLen+genlHdrLen:]
	if h.dump() {
		if !op.dumpit {
			return unix.EOPNOTSUPP
		}
		req := append([]byte(nil), payload...)
		return k.startDump(s, &dumpState{family: ipvsFamilyID, cmd: cmd, seq: h.seq, port: s.port, req: req})
	}
	if !op.doit {
		return unix.EOPNOTSUPP
	}
	a, err := parseAttrs(payload, cmdPolicy)
	if err != nil {
		return err
	}
	replyCmd, reply, err := k.doit(cmd, a)
	if err != nil {
		return err
	}
	if replyCmd != 0 {
		s.unicast(nlmsg(ipvsFamilyID, 0, h.seq, s.port, genlPayload(replyCmd, ipvsVersion, reply)))
	}
	return nil
}

// ack is netlink_ack: NLMSG_ERROR carrying the errno (0 for success) and the
// request's header, or on failure the whole request unless NETLINK_CAP_ACK
// is set. The caller holds k.mu.
func (k *Kernel) ack(s *socket, h msgHeader, msg []byte, err error) {
	if s.closed {
		return
	}
	var code int32
	if err != nil {
		var errno unix.Errno
		if !errors.As(err, &errno) {
			errno = unix.EINVAL
		}
		code = -int32(errno)
	}
	payload := binary.NativeEndian.AppendUint32(nil, uint32(code))
	var flags uint16
	if err == nil || s.capAck {
		flags = nlmCapped
		payload = append(payload, msg[:nlmsgHdrLen]...)
	} else {
		payload = append(payload, msg...)
		payload = append(payload, make([]byte, align4(len(msg))-len(msg))...)
	}
	s.unicast(nlmsg(nlmsgError, flags, h.seq, s.port, payload))
}

// receiveBuffer is the default sk_rcvbuf of a netlink socket
// (net.core.rmem_default, 212992 bytes).
const receiveBuffer = 212992

// unicast queues an answer as netlink_unicast does for the kernel, without
// blocking: when the datagrams already queued take more memory than the
// receive buffer, the answer is dropped and the next read fails with
// ENOBUFS (netlink_overrun), so that a client that lets too many answers
// pile up loses some, as on a real socket. The caller holds k.mu.
func (s *socket) unicast(datagram []byte) {
	queued := 0
	for _, d := range s.queue {
		queued += truesize(len(d))
	}
	if queued > receiveBuffer {
		if s.lost == nil {
			s.lost = unix.ENOBUFS
		}
		return
	}
	s.queue = append(s.queue, datagram)
}

// truesize is the memory an skb of n bytes of data costs its socket on a
// 64-bit 6.1 kernel: the data and struct skb_shared_info (320 bytes) in one
// kmalloc block of a power-of-two size, and struct sk_buff (256 with its
// alignment). A capped acknowledgement (36 bytes) costs 768.
func truesize(n int) int {
	block := 64
	for block < (n+63)&^63+320 {
		block *= 2
	}
	return block + 256
}

// chunk is the buffer a dump fills before it becomes one datagram.
type chunk struct {
	b []byte
	n int
}

func (c *chunk) add(msg []byte) bool {
	if len(c.b)+len(msg) > dumpDatagramSize {
		return false
	}
	c.b = append(c.b, msg...)
	c.n++
	return true
}

// startDump is netlink_dump_start: one dump at a time per socket, and the
// first datagram is produced at once. The caller holds k.mu.
func (k *Kernel) startDump(s *socket, d *dumpState) error {
	if s.dump != nil {
		return unix.EBUSY
	}
	s.dump = d
	k.dumpNext(s)
	return errDumpStarted
}

// dumpNext is netlink_dump: fill one datagram; when nothing more fits in,
// because nothing is left, send NLMSG_DONE and end the dump. The caller
// holds k.mu.
func (k *Kernel) dumpNext(s *socket) {
	d := s.dump
	var c chunk
	if d.family == genlIDCtrl {
		fillCtrlDump(d, &c)
	} else {
		k.fillDump(d, &c)
	}
	if c.n > 0 {
		s.queue = append(s.queue, c.b)
		return
	}
	done := binary.NativeEndian.AppendUint32(nil, 0)
	s.queue = append(s.queue, nlmsg(nlmsgDone, nlmMulti, d.seq, d.port, done))
	s.dump = nil
}
