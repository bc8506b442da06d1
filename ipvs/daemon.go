package ipvs

import (
	"net/netip"
	"strconv"
)

// A DaemonState is the role of a connection-synchronisation daemon.
type DaemonState uint32

// Daemon states, as in the kernel's IP_VS_STATE_*.
const (
	Master DaemonState = 1
	Backup DaemonState = 2
)

func (s DaemonState) String() string {
	switch s {
	case Master:
		return "master"
	case Backup:
		return "backup"
	}
	return "DaemonState(" + strconv.Itoa(int(s)) + ")"
}

// A Daemon is a connection-synchronisation daemon: a master sends the
// director's connection table to backups by multicast.
type Daemon struct {
	State     DaemonState
	Interface string
	SyncID    uint32
	// MaxLength bounds a sync message (UDP payload); zero leaves it to the
	// kernel, which derives it from the interface's MTU.
	MaxLength uint16
	// Group is the multicast group, IPv4 or IPv6; the zero Addr leaves the
	// kernel's default, 224.0.0.81.
	Group netip.Addr
	// Port is the multicast UDP port; zero means the kernel's 8848.
	Port uint16
	// TTL is the multicast TTL; zero means the kernel's 1.
	TTL uint8
}

func (d Daemon) validate() error {
	if d.State != Master && d.State != Backup {
		return invalidf("daemon state %v is neither master nor backup", d.State)
	}
	if err := validateName("interface", d.Interface, maxInterfaceName); err != nil {
		return err
	}
	if d.Group.IsValid() && !d.Group.IsMulticast() {
		return invalidf("daemon group %v is not a multicast address", d.Group)
	}
	return nil
}
