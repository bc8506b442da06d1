package ipvs

import (
	"fmt"
	"net/netip"
	"strconv"
)

// A Family is an address family: IPv4 or IPv6.
type Family uint16

// Address families, with the values of the kernel's AF_INET and AF_INET6.
const (
	IPv4 Family = 2
	IPv6 Family = 10
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "inet"
	case IPv6:
		return "inet6"
	}
	return "Family(" + strconv.Itoa(int(f)) + ")"
}

// familyOf returns the family of addr. An IPv4-mapped IPv6 address is IPv6,
// as it is to the kernel.
func familyOf(addr netip.Addr) Family {
	if addr.Is4() {
		return IPv4
	}
	return IPv6
}

// A Protocol is the transport protocol of a virtual service.
type Protocol uint16

// Protocols IPVS balances, with their IP protocol numbers.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// ServiceFlags are the flags of a virtual service.
type ServiceFlags uint32

// Service flags, as in the kernel's IP_VS_SVC_F_*.
const (
	// FlagPersistent makes a client stick to one destination for Timeout.
	FlagPersistent ServiceFlags = 0x1
	// FlagHashed is set by the kernel on every service it holds; it is
	// reported, never configured.
	FlagHashed ServiceFlags = 0x2
	// FlagOnePacket schedules every UDP datagram on its own.
	FlagOnePacket ServiceFlags = 0x4
	// FlagSched1, FlagSched2 and FlagSched3 are scheduler-specific; for sh and
	// mh, FlagSched1 is "fallback" and FlagSched2 is "port".
	FlagSched1 ServiceFlags = 0x8
	FlagSched2 ServiceFlags = 0x10
	FlagSched3 ServiceFlags = 0x20
)

// A Netmask is the granularity of persistence: clients whose addresses agree
// under the mask share a destination. For an IPv4 service it is the 32-bit
// mask as a number (0xffffff00 is 255.255.255.0; any bit pattern is allowed,
// as the kernel allows it); for an IPv6 service it is a prefix length from 1
// to 128.
type Netmask uint32

// A Service is a virtual service as an operator configures it. It is either
// an address service (Protocol, Address and Port) or a firewall-mark service
// (FirewallMark, with Family telling IPv4 from IPv6).
type Service struct {
	// Family is the service's address family. Zero means the family of
	// Address, or IPv4 for a firewall-mark service. Services read from the
	// kernel always have it set.
	Family       Family
	Protocol     Protocol
	Address      netip.Addr
	Port         uint16
	FirewallMark uint32

	// Scheduler names the scheduling module ("rr", "wlc", ...); the kernel
	// reports "none" for a service without one.
	Scheduler string
	Flags     ServiceFlags
	// Timeout is the persistence timeout in seconds.
	Timeout uint32
	// Netmask is the persistence granularity. Zero for an IPv6 service means
	// 128, a single client address.
	Netmask Netmask
	// PersistenceEngine names a persistence engine module ("sip"), or is
	// empty.
	PersistenceEngine string
}

// ServiceExtended is a Service with what the kernel reports about it.
type ServiceExtended struct {
	Service
	Stats Stats
}

// family resolves the zero Family.
func (s Service) family() Family {
	switch {
	case s.Family != 0:
		return s.Family
	case s.FirewallMark == 0 && s.Address.IsValid():
		return familyOf(s.Address)
	}
	return IPv4
}

// netmask resolves the zero netmask of an IPv6 service.
func (s Service) netmask() Netmask {
	if s.Netmask == 0 && s.family() == IPv6 {
		return 128
	}
	return s.Netmask
}

// validateKey checks what identifies a service.
func (s Service) validateKey() error {
	f := s.family()
	if f != IPv4 && f != IPv6 {
		return invalidf("service family %v is neither IPv4 nor IPv6", f)
	}
	if s.FirewallMark != 0 {
		if s.Address.IsValid() || s.Port != 0 || s.Protocol != 0 {
			return invalidf("firewall-mark service %d must not have an address, port or protocol", s.FirewallMark)
		}
		return nil
	}
	if !s.Address.IsValid() {
		return invalidf("service has neither an address nor a firewall mark")
	}
	if familyOf(s.Address) != f {
		return invalidf("service address %v is not of family %v", s.Address, f)
	}
	switch s.Protocol {
	case TCP, UDP, SCTP:
	default:
		return invalidf("service protocol %v is not TCP, UDP or SCTP", s.Protocol)
	}
	return nil
}

// validate checks a service that is to be created or updated.
func (s Service) validate() error {
	if err := s.validateKey(); err != nil {
		return err
	}
	if s.family() == IPv6 && s.netmask() > 128 {
		return invalidf("IPv6 netmask /%d is over 128", s.Netmask)
	}
	if err := validateName("scheduler", s.Scheduler, maxSchedulerName); err != nil {
		return err
	}
	return validateName("persistence engine", s.PersistenceEngine, maxPersistenceEngineName)
}

// The longest names the kernel's netlink policy lets through: its
// IP_VS_SCHEDNAME_MAXLEN and IFNAMSIZ count the terminating NUL, but the
// policy of the persistence engine's name allows IP_VS_PENAME_MAXLEN bytes
// before it (such a name is then not found: ENOENT, not EINVAL).
const (
	maxSchedulerName         = 16 - 1
	maxPersistenceEngineName = 16
	maxInterfaceName         = 16 - 1
)

func validateName(what, name string, max int) error {
	if len(name) > max {
		return invalidf("%s name %q is longer than %d bytes", what, name, max)
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return invalidf("%s name %q contains a NUL byte", what, name)
		}
	}
	return nil
}

// String returns the service in ipvsadm's notation: "TCP 10.0.0.1:80",
// "UDP [2001:db8::1]:53" or "FWM 7" (with " IPv6" for an IPv6 mark).
func (s Service) String() string {
	if s.FirewallMark != 0 {
		if s.family() == IPv6 {
			return fmt.Sprintf("FWM %d IPv6", s.FirewallMark)
		}
		return fmt.Sprintf("FWM %d", s.FirewallMark)
	}
	return s.Protocol.String() + " " + netip.AddrPortFrom(s.Address, s.Port).String()
}
