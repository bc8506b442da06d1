package rules

import "github.com/lvsgo/ipvsadm/ipvs"

// A Set is a rule set: virtual services in order, each with its
// destinations in order (the order schedulers such as rr walk them).
type Set struct {
	Services []Service
}

// A Service is a virtual service of a Set and its destinations.
type Service struct {
	ipvs.Service
	Destinations []Destination
	// Line is the input line that last set the service, counting from 1;
	// 0 for a service read from the kernel.
	Line int
}

// A Destination is a real server of a Service.
type Destination struct {
	ipvs.Destination
	Line int // as Service.Line
}

// sameService reports whether a and b (of one key) are set alike: whether
// restoring a over b would change nothing. The kernel's own flag "hashed"
// is not a setting.
func sameService(a, b *ipvs.Service) bool {
	const settable = ^ipvs.FlagHashed
	return a.Scheduler == b.Scheduler &&
		a.Flags&settable == b.Flags&settable &&
		a.Timeout == b.Timeout &&
		a.Netmask == b.Netmask &&
		a.PersistenceEngine == b.PersistenceEngine
}

// sameDestination reports whether a and b (of one key) are set alike. The
// kernel turns direct routing to a local address into "local", and -S
// writes both as -g, so the two are one setting here.
func sameDestination(a, b *ipvs.Destination) bool {
	return forwarding(a.Forwarding) == forwarding(b.Forwarding) &&
		a.Weight == b.Weight &&
		a.UpperThreshold == b.UpperThreshold &&
		a.LowerThreshold == b.LowerThreshold &&
		a.TunnelType == b.TunnelType &&
		a.TunnelPort == b.TunnelPort &&
		a.TunnelFlags == b.TunnelFlags
}

func forwarding(f ipvs.Forwarding) ipvs.Forwarding {
	f &= 0x7 // IP_VS_CONN_F_FWD_MASK; the kernel keeps other flags above
	if f == ipvs.Local {
		return ipvs.Route
	}
	return f
}
