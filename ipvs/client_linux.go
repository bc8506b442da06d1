//go:build linux

package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const (
	familyName    = "IPVS"
	familyVersion = 1

	// receiveBufferSize is the buffer handed to every recvmsg. The kernel
	// sizes each dump chunk after the largest buffer it has seen (up to 32
	// KiB), and IPVS restarts every chunk from the start of its hash
	// table, so small chunks make listing a big table quadratic.
	receiveBufferSize = 64 << 10

	// batchWindow bounds the requests of one window (writer_linux.go).
	// The kernel answers each request that fails at once, and answers
	// beyond the socket's receive buffer would be dropped (ENOBUFS). A
	// capped error acknowledgement costs the socket 768 bytes (the skb's
	// truesize), so a window of 128 that all fail, and its closing no-op,
	// stay well inside the default 208 KiB.
	batchWindow = 128

	// destinationSockets bounds the sockets that dump destinations at
	// once, for callers that list several services' destinations in
	// parallel.
	destinationSockets = 4
)

// destinationBufferSize is the recvmsg buffer of the sockets that dump
// destinations. A dump's chunks are allocated after the largest buffer the
// socket has read with, so the 64 KiB of the main socket would make the
// kernel allocate over 32 KiB, a multi-page block, for every chunk, and two
// chunks per service with its final DONE: most of the time of a listing of
// many small services. NLMSG_GOODSIZE, a page less the skb's shared info
// (320 bytes on 64-bit kernels since MAX_SKB_FRAGS is 17 or more), is the
// smallest the kernel allocates and what fits one page; a smaller buffer
// would truncate chunks, so elsewhere a whole page is used.
var destinationBufferSize = func() int {
	page := os.Getpagesize()
	if page == 4096 && strconv.IntSize == 64 {
		return page - 320
	}
	return page
}()

// client is the Linux implementation behind Client.
type client struct {
	mu     sync.Mutex // serialises request/response exchanges on s
	c      *netlink.Conn
	s      *socket // c's I/O
	family uint16

	// dial opens another socket like c, for dumps of destinations; nil
	// when c was handed over (NewFromConn), which then does them too.
	dial func(bufferSize int) (*socket, error)
	// idle are the destination sockets not in use; a walk takes one, or
	// dials one while fewer than destinationSockets exist.
	idleMu sync.Mutex
	idle   []*socket
	slots  chan struct{} // a token per destination socket in use
}

func newClient() (*client, error) {
	conn, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{MessageBufferSize: receiveBufferSize})
	if err != nil {
		return nil, fmt.Errorf("ipvs: dial generic netlink: %w", err)
	}
	c, err := initClient(conn)
	if err != nil {
		return nil, err
	}
	c.dial = func(bufferSize int) (*socket, error) {
		conn, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{MessageBufferSize: bufferSize})
		if err != nil {
			return nil, err
		}
		return newSocket(conn, bufferSize), nil
	}
	c.slots = make(chan struct{}, destinationSockets)
	return c, nil
}

// initClient resolves the IPVS family on conn; it is the seam where tests
// plug in a connection to an emulated kernel.
func initClient(conn *netlink.Conn) (*client, error) {
	f, err := genetlink.NewConn(conn).GetFamily(familyName)
	if err != nil {
		_ = conn.Close()
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrFamilyNotFound
		}
		return nil, fmt.Errorf("ipvs: resolve family %s: %w", familyName, err)
	}
	// Errors need only the failed request's header back, not its whole
	// payload: smaller acks let more requests be in flight. Connections
	// that cannot (tests) work without it.
	_ = conn.SetOption(netlink.CapAcknowledge, true)
	return &client{c: conn, s: newSocket(conn, receiveBufferSize), family: f.ID}, nil
}

func (c *client) Close() error {
	c.idleMu.Lock()
	defer c.idleMu.Unlock()
	for _, s := range c.idle {
		s.nl.Close()
	}
	c.idle = nil
	return c.c.Close()
}

// destinationSocket returns a socket for a dump of destinations: one of the
// destination sockets, to be given back with releaseDestinationSocket, or
// c's own with its lock held when there are none. It waits while all of
// them are in use.
func (c *client) destinationSocket() (*socket, error) {
	if c.dial == nil {
		c.mu.Lock()
		return c.s, nil
	}
	c.slots <- struct{}{}
	c.idleMu.Lock()
	var s *socket
	if n := len(c.idle); n > 0 {
		s, c.idle = c.idle[n-1], c.idle[:n-1]
	}
	c.idleMu.Unlock()
	if s == nil {
		var err error
		if s, err = c.dial(destinationBufferSize); err != nil {
			<-c.slots
			return nil, err
		}
	}
	return s, nil
}

// releaseDestinationSocket gives back s, one of the destination sockets;
// reuse is false after a failure, which may have left replies behind on it.
func (c *client) releaseDestinationSocket(s *socket, reuse bool) {
	if reuse {
		c.idleMu.Lock()
		c.idle = append(c.idle, s)
		c.idleMu.Unlock()
	} else {
		s.nl.Close()
	}
	<-c.slots
}

// appendRequest appends a request of the IPVS family to b: the netlink
// header (its sequence number is set when it is sent), the generic netlink
// header of cmd, and the attributes encode encodes, with ae, into the same
// buffer.
func (c *client) appendRequest(ae *attributeEncoder, b []byte, cmd Command, flags netlink.HeaderFlags, encode func(*attributeEncoder)) ([]byte, error) {
	start := len(b)
	b = binary.NativeEndian.AppendUint32(b, 0) // the length, once known
	b = binary.NativeEndian.AppendUint16(b, c.family)
	b = binary.NativeEndian.AppendUint16(b, uint16(netlink.Request|flags))
	b = binary.NativeEndian.AppendUint64(b, 0) // sequence number and port
	*ae = attributeEncoder{b: append(b, uint8(cmd), familyVersion, 0, 0)}
	if encode != nil {
		encode(ae)
	}
	b = ae.b
	// Attributes end 4-byte aligned, so the message is NLMSG_ALIGNed.
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b, ae.err
}

// execute is the one place a read request is sent: it sends cmd with the
// attributes from encode and hands each reply's attributes to fn as they
// arrive, a dump's chunk by chunk. Writes go through apply.
func (c *client) execute(cmd Command, flags netlink.HeaderFlags, encode func(*attributeEncoder), fn func(*attributeDecoder) error) error {
	var s *socket
	if cmd == CmdGetDestination {
		var err error
		if s, err = c.destinationSocket(); err != nil {
			return &Error{Command: cmd, Err: err}
		}
	} else {
		c.mu.Lock()
		s = c.s
	}
	err := c.exchange(s, cmd, flags, encode, fn)
	if s == c.s {
		c.mu.Unlock()
	} else {
		c.releaseDestinationSocket(s, err == nil)
	}
	return err
}

// exchange sends one request on s, built in s's own buffers, and reads
// its reply: one message, or a dump's until the one that ends it. A
// listing makes one exchange per service, so it allocates nothing.
func (c *client) exchange(s *socket, cmd Command, flags netlink.HeaderFlags, encode func(*attributeEncoder), fn func(*attributeDecoder) error) error {
	b, err := c.appendRequest(&s.encoder, s.out[:0], cmd, flags, encode)
	s.out = b
	if err != nil {
		return &Error{Command: cmd, Err: err}
	}
	seq, err := s.send(b)
	if err != nil {
		return &Error{Command: cmd, Err: unwrapErrno(err)}
	}
	var result, fnErr error
	// One decoder for every reply: fn gets a pointer it may not keep.
	ad := &s.decoder
	for done := false; !done; {
		whole, err := s.receive(func(m netlink.Message, errno error) {
			if done || m.Header.Sequence != seq {
				return // a reply to an earlier, abandoned request
			}
			switch {
			case errno != nil:
				result, done = errno, true
			case m.Header.Type == netlink.Error || m.Header.Type == netlink.Done:
				done = true
			case m.Header.Type == netlink.Noop || m.Header.Type == netlink.Overrun:
				// Nothing of ours.
			default:
				if fnErr == nil {
					// The rest of a dump fn has stopped, or that
					// was malformed, is drained.
					if len(m.Data) < 4 {
						fnErr = &Error{Command: cmd, Err: fmt.Errorf("%w: reply of %d bytes has no generic netlink header", ErrMalformedReply, len(m.Data))}
					} else {
						*ad = attributeDecoder{rest: m.Data[4:]}
						fnErr = fn(ad)
					}
				}
				done = m.Header.Flags&netlink.Multi == 0
			}
		})
		if err != nil {
			return &Error{Command: cmd, Err: unwrapErrno(err)}
		}
		done = done || whole
	}
	if result != nil {
		return &Error{Command: cmd, Err: result}
	}
	return fnErr
}

// unwrapErrno reduces a netlink error to the kernel's errno where there is
// one, so that callers can map (command, errno) to a message.
func unwrapErrno(err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

func (c *client) Info() (Info, error) {
	var info Info
	err := c.execute(CmdGetInfo, 0, nil, func(ad *attributeDecoder) error {
		var err error
		info, err = decodeInfo(ad)
		return err
	})
	if err != nil {
		return Info{}, wrapDecodeError(CmdGetInfo, err)
	}
	return info, nil
}

func (c *client) WalkServices(fn func(ServiceExtended) error) error {
	return c.execute(CmdGetService, netlink.Dump, nil, eachService(fn))
}

// walkServicesChunked dumps the services on a socket of its own that reads
// with a buffer of bufferSize bytes, so that the kernel cuts the dump into
// datagrams of about that size (after a first one of NLMSG_GOODSIZE): the
// places where a dump may skip a service moved by another process's write
// are not those of the main socket's dumps. Without a dialer (NewFromConn)
// it is WalkServices.
func (c *client) walkServicesChunked(bufferSize int, fn func(ServiceExtended) error) error {
	if c.dial == nil {
		return c.WalkServices(fn)
	}
	s, err := c.dial(bufferSize)
	if err != nil {
		return &Error{Command: CmdGetService, Err: err}
	}
	defer s.nl.Close()
	return c.exchange(s, CmdGetService, netlink.Dump, nil, eachService(fn))
}

// eachService decodes each service of a dump's replies for fn.
func eachService(fn func(ServiceExtended) error) func(*attributeDecoder) error {
	return func(ad *attributeDecoder) error {
		s, err := decodeServiceReply(ad)
		if err != nil {
			return wrapDecodeError(CmdGetService, err)
		}
		return fn(s)
	}
}

func (c *client) Service(key Service) (ServiceExtended, error) {
	if err := key.validateKey(); err != nil {
		return ServiceExtended{}, err
	}
	var s ServiceExtended
	found := false
	err := c.execute(CmdGetService, 0, func(ae *attributeEncoder) {
		ae.Nested(attrService, key.encodeKey)
	}, func(ad *attributeDecoder) error {
		var err error
		s, err = decodeServiceReply(ad)
		found = err == nil
		return wrapDecodeError(CmdGetService, err)
	})
	if err == nil && !found {
		err = &Error{Command: CmdGetService, Err: fmt.Errorf("%w: no service in the reply", ErrMalformedReply)}
	}
	return s, err
}

func (c *client) WalkDestinations(s Service, fn func(DestinationExtended) error) error {
	if err := s.validateKey(); err != nil {
		return err
	}
	af := s.family()
	return c.execute(CmdGetDestination, netlink.Dump, func(ae *attributeEncoder) {
		ae.Nested(attrService, s.encodeKey)
	}, func(ad *attributeDecoder) error {
		d, err := decodeDestinationReply(ad, af)
		if err != nil {
			return wrapDecodeError(CmdGetDestination, err)
		}
		return fn(d)
	})
}

func (c *client) Timeouts() (Timeouts, error) {
	var t Timeouts
	err := c.execute(CmdGetConfig, 0, nil, func(ad *attributeDecoder) error {
		var err error
		t, err = decodeTimeouts(ad)
		return err
	})
	return t, wrapDecodeError(CmdGetConfig, err)
}

func (c *client) Daemons() ([]Daemon, error) {
	daemons := []Daemon{}
	err := c.execute(CmdGetDaemon, netlink.Dump, nil, func(ad *attributeDecoder) error {
		d, err := decodeDaemonReply(ad)
		if err != nil {
			return wrapDecodeError(CmdGetDaemon, err)
		}
		daemons = append(daemons, d)
		return nil
	})
	return daemons, err
}

// wrapDecodeError makes a decoding error an *Error of cmd, leaving errors
// that already are one (and nil) as they are.
func wrapDecodeError(cmd Command, err error) error {
	var e *Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return &Error{Command: cmd, Err: err}
}
