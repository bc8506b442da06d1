//go:build linux

package ipvstest

import (
	"errors"
	"fmt"
	"net/netip"
)

// Stats are the counters and rates the kernel reports for a service or a
// destination. The emulation reports whatever was set last; ZERO clears
// them, as it restarts the kernel's counters and estimators.
type Stats struct {
	Conns, InPkts, OutPkts, InBytes, OutBytes uint64
	CPS, InPPS, OutPPS, InBPS, OutBPS         uint64
}

// ServiceKey names a virtual service: by (AF, Protocol, Addr, Port) or, when
// FWMark is non-zero, by (AF, FWMark). Port is in host order. AF 0 means
// the family of Addr (AF_INET for a fwmark key without an address).
type ServiceKey struct {
	AF       uint16
	Protocol uint16
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32
}

// DestinationKey names a real server of a service. AF 0 means the
// family of Addr.
type DestinationKey struct {
	AF   uint16
	Addr netip.Addr
	Port uint16
}

// errNoService and errNoDestination are returned by the Set methods when the
// key names nothing in the table.
var (
	errNoService     = errors.New("ipvstest: no such service")
	errNoDestination = errors.New("ipvstest: no such destination")
)

// SetServiceStats sets the counters reported for the service svc.
func (k *Kernel) SetServiceStats(svc ServiceKey, s Stats) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	x, err := k.serviceByKey(svc)
	if err != nil {
		return err
	}
	x.stats = s
	return nil
}

// SetDestinationStats sets the counters reported for destination dst of
// service svc.
func (k *Kernel) SetDestinationStats(svc ServiceKey, dst DestinationKey, s Stats) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	d, err := k.destByKey(svc, dst)
	if err != nil {
		return err
	}
	d.stats = s
	return nil
}

// SetConnCounts sets the active, inactive and persistent connection counts
// reported for destination dst of service svc. ZERO leaves them alone.
func (k *Kernel) SetConnCounts(svc ServiceKey, dst DestinationKey, active, inactive, persistent uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	d, err := k.destByKey(svc, dst)
	if err != nil {
		return err
	}
	d.active, d.inactive, d.persist = active, inactive, persistent
	return nil
}

func (k *Kernel) serviceByKey(key ServiceKey) (*service, error) {
	af := keyFamily(key.AF, key.Addr)
	s := k.findService(af, key.Protocol, keyAddr(key.Addr), key.Port, key.FWMark)
	if s == nil {
		return nil, fmt.Errorf("%w: %+v", errNoService, key)
	}
	return s, nil
}

func (k *Kernel) destByKey(svc ServiceKey, dst DestinationKey) (*dest, error) {
	s, err := k.serviceByKey(svc)
	if err != nil {
		return nil, err
	}
	d := s.lookupDest(keyFamily(dst.AF, dst.Addr), keyAddr(dst.Addr), dst.Port)
	if d == nil {
		return nil, fmt.Errorf("%w: %+v", errNoDestination, dst)
	}
	return d, nil
}

func keyFamily(af uint16, a netip.Addr) uint16 {
	switch {
	case af != 0:
		return af
	case a.Is6() && !a.Is4In6():
		return afInet6
	}
	return afInet
}

// keyAddr lays a netip.Addr out as union nf_inet_addr.
func keyAddr(a netip.Addr) [16]byte {
	var v [16]byte
	a = a.Unmap()
	switch {
	case a.Is4():
		b := a.As4()
		copy(v[:], b[:])
	case a.Is6():
		v = a.As16()
	}
	return v
}
