package ipvs

import (
	"fmt"
	"time"
)

// Stats are the counters of a service or destination, and the rates the
// kernel estimates from them (per second, over about two seconds).
type Stats struct {
	Connections    uint64
	PacketsIn      uint64
	PacketsOut     uint64
	BytesIn        uint64
	BytesOut       uint64
	ConnectionRate uint64
	PacketRateIn   uint64
	PacketRateOut  uint64
	ByteRateIn     uint64
	ByteRateOut    uint64
}

// Timeouts are the connection timeouts of IPVS. In a write, a zero field
// leaves that timeout unchanged.
type Timeouts struct {
	TCP    time.Duration
	TCPFin time.Duration
	UDP    time.Duration
}

// maxTimeout is what the attribute holds. The kernel's own bound, INT_MAX /
// HZ seconds, depends on its HZ, so it is the kernel's to enforce (EINVAL).
const maxTimeout = (1<<32 - 1) * time.Second

func (t Timeouts) validate() error {
	for _, d := range []time.Duration{t.TCP, t.TCPFin, t.UDP} {
		if d < 0 || d > maxTimeout || d%time.Second != 0 {
			return invalidf("timeout %v is not a whole number of seconds from 0 to %v", d, maxTimeout)
		}
	}
	return nil
}

// Info describes the kernel's IPVS.
type Info struct {
	Version Version
	// ConnectionTableSize is the number of buckets of the connection hash
	// table.
	ConnectionTableSize uint32
}

// A Version is an IPVS version, 0x010201 for 1.2.1.
type Version uint32

func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v>>16&0xff, v>>8&0xff, v&0xff)
}
