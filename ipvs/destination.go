package ipvs

import (
	"net/netip"
	"strconv"
)

// A Forwarding is how packets reach a destination.
type Forwarding uint32

// Forwarding methods, as in the kernel's IP_VS_CONN_F_* (the low three bits).
const (
	// Masquerade is NAT (ipvsadm -m).
	Masquerade Forwarding = 0
	// Local delivers to the director itself.
	Local Forwarding = 1
	// Tunnel encapsulates (ipvsadm -i).
	Tunnel Forwarding = 2
	// Route is direct routing (ipvsadm -g), the default.
	Route Forwarding = 3
	// Bypass sends to the original destination.
	Bypass Forwarding = 4
)

func (f Forwarding) String() string {
	switch f {
	case Masquerade:
		return "Masq"
	case Local:
		return "Local"
	case Tunnel:
		return "Tunnel"
	case Route:
		return "Route"
	case Bypass:
		return "Bypass"
	}
	return "Forwarding(" + strconv.Itoa(int(f)) + ")"
}

// A TunnelType is the encapsulation of a Tunnel destination.
type TunnelType uint8

// Tunnel types, as in the kernel's IP_VS_CONN_F_TUNNEL_TYPE_*.
const (
	IPIP TunnelType = 0
	GUE  TunnelType = 1
	GRE  TunnelType = 2
)

func (t TunnelType) String() string {
	switch t {
	case IPIP:
		return "ipip"
	case GUE:
		return "gue"
	case GRE:
		return "gre"
	}
	return "TunnelType(" + strconv.Itoa(int(t)) + ")"
}

// TunnelFlags are the checksum options of a GUE or GRE tunnel. No flag at all
// means no checksum.
type TunnelFlags uint16

// Tunnel flags, as in the kernel's IP_VS_TUNNEL_ENCAP_FLAG_*.
const (
	TunnelChecksum       TunnelFlags = 0x1
	TunnelRemoteChecksum TunnelFlags = 0x2
)

// A Destination is a real server behind a virtual service, as an operator
// configures it. Destinations are identified within their service by
// Family, Address and Port; the forwarding method is not part of the key.
type Destination struct {
	// Family is the destination's own address family; zero means the
	// family of Address. It may differ from the service's only for
	// Tunnel destinations.
	Family     Family
	Address    netip.Addr
	Port       uint16
	Forwarding Forwarding
	// Weight is the scheduling weight, 0 to 2147483647; 0 takes no new
	// connections.
	Weight int32
	// UpperThreshold and LowerThreshold bound the destination's
	// connections; zero means no bound.
	UpperThreshold uint32
	LowerThreshold uint32
	TunnelType     TunnelType
	// TunnelPort is the UDP port of a GUE tunnel.
	TunnelPort  uint16
	TunnelFlags TunnelFlags
}

// DestinationExtended is a Destination with what the kernel reports about it.
type DestinationExtended struct {
	Destination
	ActiveConnections     uint32
	InactiveConnections   uint32
	PersistentConnections uint32
	Stats                 Stats
}

func (d Destination) family() Family {
	if d.Family == 0 && d.Address.IsValid() {
		return familyOf(d.Address)
	}
	return d.Family
}

// validateKey checks what identifies a destination.
func (d Destination) validateKey() error {
	if !d.Address.IsValid() {
		return invalidf("destination has no address")
	}
	if f := d.family(); f != familyOf(d.Address) {
		return invalidf("destination address %v is not of family %v", d.Address, f)
	}
	return nil
}

// validate checks a destination that is to be created or updated.
func (d Destination) validate() error {
	if err := d.validateKey(); err != nil {
		return err
	}
	if d.Weight < 0 {
		return invalidf("destination weight %d is negative", d.Weight)
	}
	if d.Forwarding > Bypass {
		return invalidf("unknown forwarding method %d", d.Forwarding)
	}
	return nil
}

// String returns the destination as address:port.
func (d Destination) String() string {
	return netip.AddrPortFrom(d.Address, d.Port).String()
}
