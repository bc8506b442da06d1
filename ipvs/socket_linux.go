//go:build linux

package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// A socket is one netlink socket of a client, and how its requests and
// replies cross it.
//
// mdlayher/netlink's Send and Receive start a goroutine per system call (to
// watch for a context's cancellation, which this package never uses), and a
// batched restore or a listing makes tens of thousands of system calls:
// under qemu's emulation, waking those goroutines cost as much as the
// kernel's own work. So where the connection has a descriptor, requests are
// written and replies read with sendto and recvmsg on it directly, through
// the runtime's poller, with buffers that are reused; connections without
// one (package ipvstest's) go through netlink.Conn as before.
type socket struct {
	nl  *netlink.Conn
	raw syscall.RawConn // nil: nl does the I/O
	seq uint32          // the last sequence number sent on raw
	in  []byte          // the datagram being read, reused

	// What a read request (client.exchange) is built and read with.
	out     []byte
	encoder attributeEncoder
	decoder attributeDecoder
}

func newSocket(nl *netlink.Conn, receiveSize int) *socket {
	s := &socket{nl: nl}
	if rc, err := nl.SyscallConn(); err == nil {
		s.raw = rc
		s.in = make([]byte, receiveSize)
		// Start where netlink.Conn would not: the kernel needs no
		// particular number, replies only need telling apart.
		s.seq = 1 << 31
	}
	return s
}

// send sends b, whole requests encoded one after another, in one system
// call, numbering them in order, and returns the number of the first.
func (s *socket) send(b []byte) (uint32, error) {
	if s.raw == nil {
		return s.sendConn(b)
	}
	first := s.seq + 1
	for off := 0; off+unix.NLMSG_HDRLEN <= len(b); off += nlmsgAlign(int(binary.NativeEndian.Uint32(b[off:]))) {
		s.seq++
		binary.NativeEndian.PutUint32(b[off+8:], s.seq)
	}
	var err error
	if werr := s.raw.Write(func(fd uintptr) bool {
		err = unix.Sendto(int(fd), b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return err != unix.EAGAIN
	}); werr != nil {
		return 0, werr
	}
	if err != nil {
		return 0, fmt.Errorf("sendto: %w", err)
	}
	return first, nil
}

// sendConn sends b through netlink.Conn, which numbers the requests.
func (s *socket) sendConn(b []byte) (uint32, error) {
	var msgs []netlink.Message
	for off := 0; off+unix.NLMSG_HDRLEN <= len(b); {
		n := int(binary.NativeEndian.Uint32(b[off:]))
		msgs = append(msgs, netlink.Message{
			Header: netlink.Header{
				Type:  netlink.HeaderType(binary.NativeEndian.Uint16(b[off+4:])),
				Flags: netlink.HeaderFlags(binary.NativeEndian.Uint16(b[off+6:])),
			},
			Data: b[off+unix.NLMSG_HDRLEN : off+n],
		})
		off += nlmsgAlign(n)
	}
	sent, err := s.nl.SendMessages(msgs)
	if err != nil {
		return 0, err
	}
	return sent[0].Header.Sequence, nil
}

// errShortMessage reports a datagram cut short or a message header that
// does not fit it.
var errShortMessage = errors.New("netlink message cut short")

// receive reads one datagram and calls fn with each message in it, in
// order, and with the errno of an error message (nil for an ack or any
// other message). The messages' Data are only valid during fn. whole
// reports that a whole reply was read: netlink.Conn reads all of a dump
// and drops the message that ends it.
func (s *socket) receive(fn func(m netlink.Message, errno error)) (whole bool, err error) {
	if s.raw == nil {
		msgs, err := s.nl.Receive()
		var oerr *netlink.OpError
		switch {
		case err == nil:
		case errors.As(err, &oerr) && oerr.Sequence != 0:
			// netlink.Conn turns an error message into an error.
			fn(netlink.Message{Header: netlink.Header{Type: netlink.Error, Sequence: oerr.Sequence}}, unwrapErrno(err))
			return true, nil
		default:
			return false, err
		}
		for _, m := range msgs {
			fn(m, nil)
		}
		return true, nil
	}
	var n, flags int
	if rerr := s.raw.Read(func(fd uintptr) bool {
		n, _, flags, _, err = unix.Recvmsg(int(fd), s.in, nil, unix.MSG_DONTWAIT)
		return err != unix.EAGAIN
	}); rerr != nil {
		return false, rerr
	}
	if err != nil {
		return false, fmt.Errorf("recvmsg: %w", err)
	}
	if flags&unix.MSG_TRUNC != 0 {
		return false, errShortMessage
	}
	for b := s.in[:n]; len(b) > 0; {
		if len(b) < unix.NLMSG_HDRLEN {
			return false, errShortMessage
		}
		size := int(binary.NativeEndian.Uint32(b))
		if size < unix.NLMSG_HDRLEN || size > len(b) {
			return false, errShortMessage
		}
		m := netlink.Message{
			Header: netlink.Header{
				Length:   uint32(size),
				Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:])),
				Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:])),
				Sequence: binary.NativeEndian.Uint32(b[8:]),
				PID:      binary.NativeEndian.Uint32(b[12:]),
			},
			Data: b[unix.NLMSG_HDRLEN:size],
		}
		fn(m, messageErrno(m))
		b = b[min(nlmsgAlign(size), len(b)):]
	}
	return false, nil
}

// messageErrno is the errno an error message, or the DONE message ending a
// dump, carries; nil for an ack and any other message.
func messageErrno(m netlink.Message) error {
	if m.Header.Type != netlink.Error && m.Header.Type != netlink.Done || len(m.Data) < 4 {
		return nil
	}
	if code := int32(binary.NativeEndian.Uint32(m.Data)); code < 0 {
		return unix.Errno(-code)
	}
	return nil
}

func nlmsgAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
