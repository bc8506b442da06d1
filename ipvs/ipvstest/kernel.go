//go:build linux

package ipvstest

import (
	"sync"

	"github.com/mdlayher/netlink"
)

// Kernel is an in-memory IPVS table for one network namespace, served over
// emulated generic netlink sockets. The zero value is not usable; call New.
// A Kernel is safe for concurrent use.
type Kernel struct {
	mu sync.Mutex

	// services in creation order. The kernel dumps its address-keyed hash
	// table before its fwmark-keyed one; dumpOrder reproduces that split.
	services []*service
	timeouts timeouts
	daemons  [2]*daemon // [0] master, [1] backup; nil when not running

	stats64 bool
	fault   func(Request) error
	// betweenDatagrams runs before a dump makes its next datagram.
	betweenDatagrams func() error
	requests         int
	writes           int
	nextPort         uint32
}

// Request describes one IPVS request as the fault hook sees it.
type Request struct {
	// Seq is the 1-based count of IPVS requests this Kernel has received,
	// counting every request on every connection, including ones the hook
	// or the kernel rejected.
	Seq int
	// Command is the generic netlink command (IPVS_CMD_*).
	Command uint8
	// Dump reports whether the request asked for a dump (NLM_F_DUMP).
	Dump bool
}

// timeouts are the protocol timeouts of SET_CONFIG/GET_CONFIG, in seconds.
type timeouts struct {
	tcp, tcpFin, udp int32
}

// New returns an empty table with the kernel's defaults: timeouts tcp 900 s,
// tcpfin 120 s, udp 300 s; IPVS version 1.2.1 with a connection table of
// 4096 entries; 64-bit statistics reported.
func New() *Kernel {
	return &Kernel{
		timeouts: timeouts{tcp: 900, tcpFin: 120, udp: 300},
		stats64:  true,
		nextPort: 4000,
	}
}

// Dial returns a new connection served by k, as netlink.Dial would return
// one to the kernel. Any number of connections may be open at once; they
// share the table. Each connection gets its own port ID, which the kernel
// stamps on every reply.
func (k *Kernel) Dial() *netlink.Conn {
	k.mu.Lock()
	k.nextPort++
	port := k.nextPort
	k.mu.Unlock()
	return netlink.NewConn(&socket{k: k, port: port}, port)
}

// SetFault installs fn to be called for every IPVS request (not for family
// lookups) before the kernel looks at it. If fn returns an error the request
// is answered with that error and not applied: a unix.Errno is sent as is,
// any other error as EIO. A nil fn removes the hook. fn runs without the
// Kernel's lock held, so it may call the Kernel's methods; with several
// connections in use it may be called concurrently.
func (k *Kernel) SetFault(fn func(r Request) error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fault = fn
}

// SetBetweenDatagrams installs fn to be called, without the Kernel's lock
// held, before a running dump makes each datagram after its first: where
// the kernel lets go of its lock, and another process may change the table
// under a dump. If fn returns an error (unix.ENOBUFS), the datagram is
// lost as when the reader's receive buffer has overflowed: the dump ends
// there and the reader's next receive fails with the error. A nil fn
// removes the hook.
func (k *Kernel) SetBetweenDatagrams(fn func() error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.betweenDatagrams = fn
}

// Writes reports how many modifying requests (NEW, SET and DEL of services,
// destinations and daemons, SET_CONFIG, ZERO, FLUSH) were applied
// successfully since New.
func (k *Kernel) Writes() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.writes
}

// SetStats64 chooses whether replies carry the 64-bit statistics nests
// (IPVS_SVC_ATTR_STATS64, IPVS_DEST_ATTR_STATS64). Disabling them emulates a
// kernel older than 4.1, which sends only the 32-bit STATS nests.
func (k *Kernel) SetStats64(enabled bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stats64 = enabled
}
