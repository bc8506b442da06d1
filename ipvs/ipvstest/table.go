//go:build linux

package ipvstest

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"
)

// service is a virtual service as ip_vs_ctl.c keeps it.
type service struct {
	af       uint16
	protocol uint16
	addr     [16]byte // union nf_inet_addr; IPv4 uses the first 4 bytes
	port     uint16   // host order
	fwmark   uint32
	sched    string // "" when bound to no scheduler ("none")
	pe       string
	flags    uint32
	timeout  uint32  // jiffies: the requested seconds times HZ, wrapping
	netmask  [4]byte // the __be32 exactly as received
	stats    Stats
	dests    []*dest // newest first, as list_add_rcu leaves them
}

// dest is a real server of a service.
type dest struct {
	af       uint16
	addr     [16]byte
	port     uint16 // host order
	fwd      uint32 // conn_flags & IP_VS_CONN_F_FWD_MASK
	weight   int32
	uThresh  uint32
	lThresh  uint32
	tunType  uint8
	tunPort  uint16 // host order
	tunFlags uint16
	active   uint32
	inactive uint32
	persist  uint32
	stats    Stats
}

// svcSpec is ip_vs_service_user_kern: a service as a request describes it.
type svcSpec struct {
	af       uint16
	protocol uint16
	addr     [16]byte
	port     uint16
	fwmark   uint32
	sched    string
	pe       string
	flags    uint32
	timeout  uint32
	netmask  [4]byte
}

// destSpec is ip_vs_dest_user_kern.
type destSpec struct {
	af       uint16
	addr     [16]byte
	port     uint16
	fwd      uint32
	weight   int32
	uThresh  uint32
	lThresh  uint32
	tunType  uint8
	tunPort  uint16
	tunFlags uint16
}

// Schedulers and persistence engines a Debian 6.1 kernel can load
// (ip_vs_<name>.ko, ip_vs_pe_<name>.ko). "twos" arrived in 6.2.
var (
	schedulers = map[string]bool{
		"rr": true, "wrr": true, "lc": true, "wlc": true, "lblc": true,
		"lblcr": true, "dh": true, "sh": true, "sed": true, "nq": true,
		"fo": true, "ovf": true, "mh": true,
	}
	persistenceEngines = map[string]bool{"sip": true}
)

// addrEqual is ip_vs_addr_equal: IPv4 compares only the first word.
func addrEqual(af uint16, a, b [16]byte) bool {
	if af == afInet6 {
		return a == b
	}
	return [4]byte(a[:4]) == [4]byte(b[:4])
}

// addrCopy is ip_vs_addr_copy into zeroed memory.
func addrCopy(af uint16, a [16]byte) [16]byte {
	if af == afInet6 {
		return a
	}
	var v [16]byte
	copy(v[:4], a[:4])
	return v
}

// afValid is ip_vs_is_af_valid on a kernel with IPv6 enabled.
func afValid(af uint16) bool { return af == afInet || af == afInet6 }

// findService is __ip_vs_svc_fwm_find or __ip_vs_service_find, chosen by
// whether the request names a fwmark.
func (k *Kernel) findService(af, protocol uint16, addr [16]byte, port uint16, fwmark uint32) *service {
	for _, s := range k.services {
		if fwmark != 0 {
			if s.fwmark == fwmark && s.af == af {
				return s
			}
			continue
		}
		if s.fwmark == 0 && s.af == af && addrEqual(af, s.addr, addr) &&
			s.port == port && s.protocol == protocol {
			return s
		}
	}
	return nil
}

// dumpOrder is the order of ip_vs_genl_dump_services: the table hashed by
// <protocol, addr, port> first, then the fwmark table. Within each table the
// kernel walks hash buckets whose index mixes in a per-namespace pointer, so
// its order cannot be reproduced; creation order stands in for it.
func (k *Kernel) dumpOrder() []*service {
	out := make([]*service, 0, len(k.services))
	for _, s := range k.services {
		if s.fwmark == 0 {
			out = append(out, s)
		}
	}
	for _, s := range k.services {
		if s.fwmark != 0 {
			out = append(out, s)
		}
	}
	return out
}

// checkServiceSpec is what ip_vs_add_service and ip_vs_edit_service both
// check before they change anything.
func checkServiceSpec(u svcSpec) error {
	if u.sched != "none" && !schedulers[u.sched] {
		return unix.ENOENT
	}
	if u.pe != "" && !persistenceEngines[u.pe] {
		return unix.ENOENT
	}
	if u.af == afInet6 && !validPrefix6(u.netmask) {
		return unix.EINVAL
	}
	return nil
}

// addService is ip_vs_add_service.
func (k *Kernel) addService(u svcSpec) error {
	if err := checkServiceSpec(u); err != nil {
		return err
	}
	s := &service{
		af:       u.af,
		protocol: u.protocol,
		addr:     addrCopy(u.af, u.addr),
		port:     u.port,
		fwmark:   u.fwmark,
		pe:       u.pe,
		flags:    u.flags&^svcFlagHashed | svcFlagHashed,
		timeout:  u.timeout * hz,
		netmask:  u.netmask,
	}
	if u.sched != "none" {
		s.sched = u.sched
	}
	k.services = append(k.services, s)
	return nil
}

// editService is ip_vs_edit_service.
func (k *Kernel) editService(s *service, u svcSpec) error {
	if err := checkServiceSpec(u); err != nil {
		return err
	}
	s.sched = ""
	if u.sched != "none" {
		s.sched = u.sched
	}
	s.flags = u.flags | svcFlagHashed
	s.timeout = u.timeout * hz
	s.netmask = u.netmask
	s.pe = u.pe
	return nil
}

// validPrefix6 checks an IPv6 service's netmask, which the kernel reads as
// a prefix length: the raw __be32 taken as a host-order integer, 1..128.
func validPrefix6(netmask [4]byte) bool {
	plen := binary.NativeEndian.Uint32(netmask[:])
	return plen >= 1 && plen <= 128
}

// delService is ip_vs_del_service.
func (k *Kernel) delService(s *service) {
	for i, x := range k.services {
		if x == s {
			k.services = append(k.services[:i], k.services[i+1:]...)
			return
		}
	}
}

// lookupDest is ip_vs_lookup_dest.
func (s *service) lookupDest(af uint16, addr [16]byte, port uint16) *dest {
	for _, d := range s.dests {
		if d.af == af && addrEqual(af, d.addr, addr) && d.port == port {
			return d
		}
	}
	return nil
}

// checkDest holds the checks ip_vs_add_dest and ip_vs_edit_dest share.
func checkDest(u destSpec) error {
	if u.weight < 0 {
		return unix.ERANGE
	}
	if u.lThresh > u.uThresh {
		return unix.ERANGE
	}
	if u.tunType == tunTypeGUE && u.tunPort == 0 {
		return unix.EINVAL
	}
	return nil
}

// addDest is ip_vs_add_dest followed by ip_vs_new_dest. The kernel may
// revive a recently deleted destination from its trash, stats included;
// the emulation always starts a new one.
func (k *Kernel) addDest(s *service, u destSpec) error {
	if err := checkDest(u); err != nil {
		return err
	}
	if s.lookupDest(u.af, u.addr, u.port) != nil {
		return unix.EEXIST
	}
	if !destAddrUsable(u.af, u.addr) {
		return unix.EINVAL
	}
	d := &dest{af: u.af, addr: addrCopy(u.af, u.addr), port: u.port}
	d.update(u)
	s.dests = append([]*dest{d}, s.dests...)
	return nil
}

// editDest is ip_vs_edit_dest.
func (k *Kernel) editDest(s *service, u destSpec) error {
	if err := checkDest(u); err != nil {
		return err
	}
	d := s.lookupDest(u.af, u.addr, u.port)
	if d == nil {
		return unix.ENOENT
	}
	d.update(u)
	return nil
}

// update is the visible part of __ip_vs_update_dest.
func (d *dest) update(u destSpec) {
	d.fwd = u.fwd
	d.weight = u.weight
	d.uThresh = u.uThresh
	d.lThresh = u.lThresh
	d.tunType = u.tunType
	d.tunPort = u.tunPort
	d.tunFlags = u.tunFlags
}

// delDest is ip_vs_del_dest.
func (k *Kernel) delDest(s *service, u destSpec) error {
	for i, d := range s.dests {
		if d.af == u.af && addrEqual(u.af, d.addr, u.addr) && d.port == u.port {
			s.dests = append(s.dests[:i], s.dests[i+1:]...)
			return nil
		}
	}
	return unix.ENOENT
}

// mixedDests counts destinations whose family differs from their service's
// (ipvs->mixed_address_family_dests).
func (k *Kernel) mixedDests() int {
	n := 0
	for _, s := range k.services {
		for _, d := range s.dests {
			if d.af != s.af {
				n++
			}
		}
	}
	return n
}

// zeroService is ip_vs_zero_service: counters and rates of the service and
// of its destinations restart from zero; connection counts are untouched.
func zeroService(s *service) {
	s.stats = Stats{}
	for _, d := range s.dests {
		d.stats = Stats{}
	}
}

// destAddrUsable is the address check of ip_vs_new_dest. For IPv4 the kernel
// asks inet_addr_type for RTN_UNICAST or RTN_LOCAL; with no addresses on the
// emulated interfaces that rejects 0.0.0.0/8, 255.255.255.255, 224.0.0.0/4
// and the loopback broadcast 127.255.255.255. For IPv6 it wants a unicast,
// non-link-local type from ipv6_addr_type (unless the address is local, which
// none is here): that rejects ::, multicast, fe80::/10 and IPv4-mapped.
func destAddrUsable(af uint16, a [16]byte) bool {
	if af == afInet6 {
		ip := netip.AddrFrom16(a)
		switch {
		case ip.IsUnspecified(), ip.IsMulticast(), ip.IsLinkLocalUnicast(), ip.Is4In6():
			return false
		}
		return true
	}
	ip := netip.AddrFrom4([4]byte(a[:4]))
	switch {
	case a[0] == 0, ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}),
		ip.IsMulticast(), ip == netip.AddrFrom4([4]byte{127, 255, 255, 255}):
		return false
	}
	return true
}
