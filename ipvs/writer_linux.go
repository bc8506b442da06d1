//go:build linux

package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// This file is the write path: every write, alone or among a restore's
// thousands, is sent in a window of requests that one sendto carries.
//
// ipvsadm 1.31 asks for an acknowledgement of every request and reads each
// before it sends the next. The kernel answers a request without NLM_F_ACK
// only when it fails (netlink_rcv_skb), so the requests here do not ask:
// an acknowledgement is an skb the kernel allocates and queues and a recvmsg
// here, and in a restore those cost the kernel as much as a third of its
// work. A no-op that asks for one ends the window: the kernel handles a
// sendto's requests in order before the call returns, so once the no-op's
// acknowledgement is in, every request before it that has no error has
// succeeded. The same no-op also covers the one request that succeeds
// without any answer even when asked: stopping a sync daemon whose thread
// had not run yet, whose handler returns EINTR, which netlink_rcv_skb takes
// for a dump that has started.

// windowBytes bounds the requests of one window, well under the send buffer
// (the kernel refuses a sendto over sk_sndbuf, 208 KiB by default).
const windowBytes = 64 << 10

// barrierLen is the size of the no-op that ends every window: a bare
// netlink header.
const barrierLen = unix.NLMSG_HDRLEN

// A window is the requests of one sendto and their outcomes.
type window struct {
	b        []byte    // the requests, encoded; sequence numbers are set as they are sent
	commands []Command // of each request, for its error
	first    int       // the writer's index of the first request
	results  []error   // of each request, once sent
	err      error     // the socket failed: no outcome is known
	done     chan struct{}
}

// A writer sends windows of writes, one with the kernel while the next
// fills (Writer). fn hears each outcome; when it returns false, no window is
// sent after the one with the kernel.
type writer struct {
	c  *client
	fn func(int, error) bool
	ae attributeEncoder

	filling *window // taking writes
	sent    *window // with the kernel, outcome not yet delivered
	spare   *window // delivered, to be filled again

	n       int   // writes accepted
	stopped bool  // fn returned false
	err     error // the socket failed
}

func (c *client) newWriter(fn func(int, error) bool) *writer {
	return &writer{c: c, fn: fn}
}

// errWriterStopped refuses a write after fn asked for no more.
var errWriterStopped = errors.New("ipvs: writes stopped")

func (w *writer) write(op Op) error {
	if err := op.Validate(); err != nil {
		return err
	}
	return w.add(op)
}

// add queues op, which is valid; it sends the window once it is full.
func (w *writer) add(op Op) error {
	switch {
	case w.err != nil:
		return w.err
	case w.stopped:
		return errWriterStopped
	}
	if w.filling == nil {
		w.filling = w.spare
		w.spare = nil
		if w.filling == nil {
			w.filling = &window{done: make(chan struct{}, 1)}
		}
		w.filling.reset(w.n)
	}
	win := w.filling
	start := len(win.b)
	b, err := w.c.appendRequest(&w.ae, win.b, op.Command, 0, op.encode)
	if err != nil {
		win.b = b[:start]
		return &Error{Command: op.Command, Err: err}
	}
	win.b = b
	win.commands = append(win.commands, op.Command)
	w.n++
	if len(win.commands) == batchWindow || len(win.b) >= windowBytes {
		w.send(true)
	}
	return nil
}

func (win *window) reset(first int) {
	win.b, win.commands, win.results = win.b[:0], win.commands[:0], win.results[:0]
	win.first, win.err = first, nil
}

// send hands the filling window to the kernel, once the one before is
// through: on a goroutine of its own if async, so that the caller can fill
// the next meanwhile.
func (w *writer) send(async bool) {
	win := w.filling
	w.filling = nil
	w.deliver()
	if w.err != nil || w.stopped {
		w.spare = win // not sent, not reported
		return
	}
	w.sent = win
	if async {
		go w.c.sendWindow(win)
	} else {
		w.c.sendWindow(win)
	}
}

// deliver waits for the window with the kernel and reports its outcomes.
func (w *writer) deliver() {
	win := w.sent
	if win == nil {
		return
	}
	<-win.done
	w.sent = nil
	if win.err != nil {
		w.err = win.err
	} else {
		for i, err := range win.results {
			if !w.fn(win.first+i, err) {
				w.stopped = true
			}
		}
	}
	w.spare = win
}

func (w *writer) flush() error {
	if w.filling != nil && len(w.filling.commands) > 0 {
		// Nothing to prepare meanwhile: no goroutine.
		w.send(false)
	}
	w.deliver()
	return w.err
}

// sendWindow sends win's requests and the no-op after them in one system
// call and waits for the no-op's acknowledgement, keeping each error at its
// request's position.
func (c *client) sendWindow(win *window) {
	defer func() { win.done <- struct{}{} }()
	n := len(win.commands)
	win.results = win.results[:0]
	for range n {
		win.results = append(win.results, nil)
	}
	win.b = appendBarrier(win.b)

	c.mu.Lock()
	defer c.mu.Unlock()
	first, err := c.s.send(win.b)
	if err != nil {
		win.err = fmt.Errorf("ipvs: send batch: %w", err)
		return
	}
	for done := false; !done; {
		_, err := c.s.receive(func(m netlink.Message, errno error) {
			i := m.Header.Sequence - first
			switch {
			case m.Header.Type != netlink.Error || i > uint32(n):
				// Not an answer to this window.
			case i == uint32(n):
				done = true
			case errno != nil:
				win.results[i] = &Error{Command: win.commands[i], Err: errno}
			}
		})
		if err != nil {
			win.err = fmt.Errorf("ipvs: receive acks: %w", err)
			return
		}
	}
}

// appendBarrier appends the no-op that ends a window.
func appendBarrier(b []byte) []byte {
	b = binary.NativeEndian.AppendUint32(b, barrierLen)
	b = binary.NativeEndian.AppendUint16(b, uint16(netlink.Noop))
	b = binary.NativeEndian.AppendUint16(b, uint16(netlink.Request|netlink.Acknowledge))
	return binary.NativeEndian.AppendUint64(b, 0) // sequence number and port
}

// write makes a single write.
func (c *client) write(op Op) error {
	var result error
	w := c.newWriter(func(_ int, err error) bool {
		result = err
		return true
	})
	if err := w.write(op); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	return result
}

func (c *client) apply(ops []Op, fn func(int, error) bool) error {
	for i := range ops {
		if err := ops[i].Validate(); err != nil {
			return fmt.Errorf("op %d (%v): %w", i, ops[i].Command, err)
		}
	}
	w := c.newWriter(fn)
	for i := range ops {
		if w.add(ops[i]) != nil {
			break // fn asked to stop, or the socket failed
		}
	}
	return w.flush()
}
