//go:build linux

package ipvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Attribute numbers of include/uapi/linux/ip_vs.h.
const (
	attrService    = 1 // IPVS_CMD_ATTR_SERVICE
	attrDest       = 2 // IPVS_CMD_ATTR_DEST
	attrDaemon     = 3 // IPVS_CMD_ATTR_DAEMON
	attrTimeoutTCP = 4
	attrTimeoutFin = 5
	attrTimeoutUDP = 6

	svcAF        = 1
	svcProtocol  = 2
	svcAddr      = 3
	svcPort      = 4
	svcFwmark    = 5
	svcSchedName = 6
	svcFlags     = 7
	svcTimeout   = 8
	svcNetmask   = 9
	svcStats     = 10
	svcPEName    = 11
	svcStats64   = 12

	destAddr         = 1
	destPort         = 2
	destFwdMethod    = 3
	destWeight       = 4
	destUThresh      = 5
	destLThresh      = 6
	destActiveConns  = 7
	destInactConns   = 8
	destPersistConns = 9
	destStats        = 10
	destAddrFamily   = 11
	destStats64      = 12
	destTunType      = 13
	destTunPort      = 14
	destTunFlags     = 15

	daemonState      = 1
	daemonMcastIfn   = 2
	daemonSyncID     = 3
	daemonSyncMaxlen = 4
	daemonMcastGroup = 5
	daemonMcastGrp6  = 6
	daemonMcastPort  = 7
	daemonMcastTTL   = 8

	statsConns    = 1
	statsInPkts   = 2
	statsOutPkts  = 3
	statsInBytes  = 4
	statsOutBytes = 5
	statsCPS      = 6
	statsInPPS    = 7
	statsOutPPS   = 8
	statsInBPS    = 9
	statsOutBPS   = 10

	infoVersion     = 1
	infoConnTabSize = 2

	// fwdMethodMask keeps the forwarding method of IP_VS_CONN_F_*.
	fwdMethodMask = 0x7
)

// attributeSet records which attributes of a nest were present, without
// allocating: every IPVS attribute type is below 32.
type attributeSet uint32

func (s *attributeSet) add(typ uint16) {
	if typ < 32 {
		*s |= 1 << typ
	}
}

func (s attributeSet) has(typ uint16) bool { return typ < 32 && s&(1<<typ) != 0 }

// encode adds the attributes of the request op makes.
func (op Op) encode(ae *attributeEncoder) {
	switch op.Command {
	case CmdNewService, CmdSetService:
		ae.Nested(attrService, op.Service.encode)
	case CmdDelService:
		ae.Nested(attrService, op.Service.encodeKey)
	case CmdNewDestination, CmdSetDestination:
		ae.Nested(attrService, op.Service.encodeKey)
		ae.Nested(attrDest, op.Destination.encode)
	case CmdDelDestination:
		ae.Nested(attrService, op.Service.encodeKey)
		ae.Nested(attrDest, op.Destination.encodeKey)
	case CmdNewDaemon:
		ae.Nested(attrDaemon, op.Daemon.encode)
	case CmdDelDaemon:
		ae.Nested(attrDaemon, func(nae *attributeEncoder) error {
			nae.Uint32(daemonState, uint32(op.Daemon.State))
			return nil
		})
	case CmdSetConfig:
		ae.Uint32(attrTimeoutTCP, uint32(op.Timeouts.TCP/time.Second))
		ae.Uint32(attrTimeoutFin, uint32(op.Timeouts.TCPFin/time.Second))
		ae.Uint32(attrTimeoutUDP, uint32(op.Timeouts.UDP/time.Second))
	case CmdZero:
		// Without a service the kernel zeroes everything.
		if op.Service != (Service{}) {
			ae.Nested(attrService, op.Service.encodeKey)
		}
	}
}

// encodeAddr encodes an address as the kernel's union nf_inet_addr: 16
// bytes, an IPv4 address in the first four.
func encodeAddr(addr netip.Addr) []byte {
	b := make([]byte, 16)
	if addr.Is4() {
		a := addr.As4()
		copy(b, a[:])
	} else {
		a := addr.As16()
		copy(b, a[:])
	}
	return b
}

// decodeAddr decodes an nf_inet_addr of family f.
func decodeAddr(b []byte, f Family) (netip.Addr, error) {
	switch {
	case f == IPv4 && len(b) >= 4:
		return netip.AddrFrom4([4]byte(b[:4])), nil
	case f == IPv6 && len(b) >= 16:
		return netip.AddrFrom16([16]byte(b[:16])), nil
	}
	return netip.Addr{}, fmt.Errorf("%w: address of %d bytes for family %v", ErrMalformedReply, len(b), f)
}

// bigEndian16 encodes a port as the kernel wants ports: in network order.
func bigEndian16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// encodeKey adds what identifies s.
func (s Service) encodeKey(ae *attributeEncoder) error {
	ae.Uint16(svcAF, uint16(s.family()))
	if s.FirewallMark != 0 {
		ae.Uint32(svcFwmark, s.FirewallMark)
		return nil
	}
	ae.Uint16(svcProtocol, uint16(s.Protocol))
	ae.Bytes(svcAddr, encodeAddr(s.Address))
	ae.Bytes(svcPort, bigEndian16(s.Port))
	return nil
}

// encode adds the whole of s, in the order ipvsadm sends it.
func (s Service) encode(ae *attributeEncoder) error {
	s.encodeKey(ae)
	ae.String(svcSchedName, s.Scheduler)
	if s.PersistenceEngine != "" {
		ae.String(svcPEName, s.PersistenceEngine)
	}
	// struct ip_vs_flags {flags, mask}: the mask makes every flag take the
	// value given, as an update replaces the whole service. "Hashed" is
	// the kernel's own: a new service that came with it would never be
	// hashed, so never found, and a service read back carries it.
	flags := make([]byte, 8)
	binary.NativeEndian.PutUint32(flags[0:], uint32(s.Flags&^FlagHashed))
	binary.NativeEndian.PutUint32(flags[4:], ^uint32(0))
	ae.Bytes(svcFlags, flags)
	ae.Uint32(svcTimeout, s.Timeout)
	ae.Bytes(svcNetmask, s.encodeNetmask())
	return nil
}

// encodeNetmask: the attribute is a __be32. An IPv4 mask is in network
// order; an IPv6 prefix length is stored in it as a plain integer, so it is
// in host order.
func (s Service) encodeNetmask() []byte {
	if s.family() == IPv6 {
		return binary.NativeEndian.AppendUint32(nil, uint32(s.netmask()))
	}
	return binary.BigEndian.AppendUint32(nil, uint32(s.Netmask))
}

// decodeServiceReply decodes the SERVICE attribute of a reply.
func decodeServiceReply(ad *attributeDecoder) (ServiceExtended, error) {
	var s ServiceExtended
	found := false
	for ad.Next() {
		if ad.Type() == attrService {
			found = true
			nad := ad.Nested()
			var err error
			s, err = decodeService(&nad)
			ad.fail(err)
		}
	}
	if err := ad.Err(); err != nil {
		return ServiceExtended{}, decodeError(err)
	}
	if !found {
		return ServiceExtended{}, fmt.Errorf("%w: no service attribute", ErrMalformedReply)
	}
	return s, nil
}

func decodeService(ad *attributeDecoder) (ServiceExtended, error) {
	var (
		s                      ServiceExtended
		addr, netmask          []byte
		sched, pe              []byte // made strings once, after the loop
		seen                   attributeSet
		stats32, stats64       Stats
		hasStats32, hasStats64 bool
	)
	for ad.Next() {
		seen.add(ad.Type())
		switch ad.Type() {
		case svcAF:
			s.Family = Family(ad.Uint16())
		case svcProtocol:
			s.Protocol = Protocol(ad.Uint16())
		case svcAddr:
			addr = ad.Bytes()
		case svcPort:
			s.Port = ad.BigEndian16()
		case svcFwmark:
			s.FirewallMark = ad.Uint32()
		case svcSchedName:
			sched = ad.Bytes()
		case svcPEName:
			pe = ad.Bytes()
		case svcFlags:
			b := ad.Bytes()
			if len(b) != 8 {
				return s, fmt.Errorf("%w: service flags of %d bytes", ErrMalformedReply, len(b))
			}
			s.Flags = ServiceFlags(binary.NativeEndian.Uint32(b[0:]) & binary.NativeEndian.Uint32(b[4:]))
		case svcTimeout:
			s.Timeout = ad.Uint32()
		case svcNetmask:
			netmask = ad.Bytes()
		case svcStats:
			hasStats32 = true
			nad := ad.Nested()
			ad.fail(decodeStats(&nad, &stats32, false))
		case svcStats64:
			hasStats64 = true
			nad := ad.Nested()
			ad.fail(decodeStats(&nad, &stats64, true))
		}
	}
	if err := ad.Err(); err != nil {
		return s, decodeError(err)
	}

	if !seen.has(svcAF) || !seen.has(svcSchedName) || !seen.has(svcFlags) || !seen.has(svcTimeout) || !seen.has(svcNetmask) {
		return s, fmt.Errorf("%w: service lacks a mandatory attribute", ErrMalformedReply)
	}
	if s.Family != IPv4 && s.Family != IPv6 {
		return s, fmt.Errorf("%w: service family %v", ErrMalformedReply, s.Family)
	}
	s.Scheduler = moduleName(sched)
	if pe != nil {
		s.PersistenceEngine = moduleName(pe)
	}
	if s.FirewallMark != 0 {
		// As ip_vs_genl_parse_service, a mark makes the rest of the
		// key moot.
		s.Protocol, s.Port = 0, 0
	} else {
		if !seen.has(svcProtocol) || !seen.has(svcPort) || addr == nil {
			return s, fmt.Errorf("%w: service has neither a firewall mark nor protocol, address and port", ErrMalformedReply)
		}
		var err error
		if s.Address, err = decodeAddr(addr, s.Family); err != nil {
			return s, err
		}
	}
	if len(netmask) != 4 {
		return s, fmt.Errorf("%w: netmask of %d bytes", ErrMalformedReply, len(netmask))
	}
	if s.Family == IPv6 {
		s.Netmask = Netmask(binary.NativeEndian.Uint32(netmask))
	} else {
		s.Netmask = Netmask(binary.BigEndian.Uint32(netmask))
	}
	s.Stats = preferStats64(stats32, hasStats32, stats64, hasStats64)
	return s, nil
}

// preferStats64 picks the 64-bit counters, which kernels since 4.1 send
// beside the 32-bit ones that wrap.
func preferStats64(stats32 Stats, has32 bool, stats64 Stats, has64 bool) Stats {
	if has64 || !has32 {
		return stats64
	}
	return stats32
}

// decodeStats decodes a STATS (32-bit counters and rates, 64-bit bytes) or
// STATS64 (all 64-bit) nest into st.
func decodeStats(ad *attributeDecoder, st *Stats, all64 bool) error {
	for ad.Next() {
		var field *uint64
		switch ad.Type() {
		case statsConns:
			field = &st.Connections
		case statsInPkts:
			field = &st.PacketsIn
		case statsOutPkts:
			field = &st.PacketsOut
		case statsInBytes:
			st.BytesIn = ad.Uint64()
			continue
		case statsOutBytes:
			st.BytesOut = ad.Uint64()
			continue
		case statsCPS:
			field = &st.ConnectionRate
		case statsInPPS:
			field = &st.PacketRateIn
		case statsOutPPS:
			field = &st.PacketRateOut
		case statsInBPS:
			field = &st.ByteRateIn
		case statsOutBPS:
			field = &st.ByteRateOut
		default:
			continue // IPVS_STATS_ATTR_PAD and later additions
		}
		if all64 {
			*field = ad.Uint64()
		} else {
			*field = uint64(ad.Uint32())
		}
	}
	return ad.Err()
}

// encodeKey adds what identifies d within its service.
func (d Destination) encodeKey(ae *attributeEncoder) error {
	ae.Uint16(destAddrFamily, uint16(d.family()))
	ae.Bytes(destAddr, encodeAddr(d.Address))
	ae.Bytes(destPort, bigEndian16(d.Port))
	return nil
}

// encode adds the whole of d, in the order ipvsadm sends it.
func (d Destination) encode(ae *attributeEncoder) error {
	d.encodeKey(ae)
	ae.Uint32(destFwdMethod, uint32(d.Forwarding))
	ae.Uint32(destWeight, uint32(d.Weight))
	ae.Uint8(destTunType, uint8(d.TunnelType))
	ae.Bytes(destTunPort, bigEndian16(d.TunnelPort))
	ae.Uint16(destTunFlags, uint16(d.TunnelFlags))
	ae.Uint32(destUThresh, d.UpperThreshold)
	ae.Uint32(destLThresh, d.LowerThreshold)
	return nil
}

// decodeDestinationReply decodes the DEST attribute of a reply; serviceFamily
// is the family of destinations whose kernel (before 3.18) does not say.
func decodeDestinationReply(ad *attributeDecoder, serviceFamily Family) (DestinationExtended, error) {
	var d DestinationExtended
	found := false
	for ad.Next() {
		if ad.Type() == attrDest {
			found = true
			nad := ad.Nested()
			var err error
			d, err = decodeDestination(&nad, serviceFamily)
			ad.fail(err)
		}
	}
	if err := ad.Err(); err != nil {
		return DestinationExtended{}, decodeError(err)
	}
	if !found {
		return DestinationExtended{}, fmt.Errorf("%w: no destination attribute", ErrMalformedReply)
	}
	return d, nil
}

func decodeDestination(ad *attributeDecoder, serviceFamily Family) (DestinationExtended, error) {
	var (
		d                      DestinationExtended
		addr                   []byte
		seen                   attributeSet
		stats32, stats64       Stats
		hasStats32, hasStats64 bool
	)
	d.Family = serviceFamily
	for ad.Next() {
		seen.add(ad.Type())
		switch ad.Type() {
		case destAddr:
			addr = ad.Bytes()
		case destPort:
			d.Port = ad.BigEndian16()
		case destFwdMethod:
			d.Forwarding = Forwarding(ad.Uint32() & fwdMethodMask)
		case destWeight:
			d.Weight = int32(ad.Uint32())
		case destUThresh:
			d.UpperThreshold = ad.Uint32()
		case destLThresh:
			d.LowerThreshold = ad.Uint32()
		case destActiveConns:
			d.ActiveConnections = ad.Uint32()
		case destInactConns:
			d.InactiveConnections = ad.Uint32()
		case destPersistConns:
			d.PersistentConnections = ad.Uint32()
		case destAddrFamily:
			d.Family = Family(ad.Uint16())
		case destTunType:
			d.TunnelType = TunnelType(ad.Uint8())
		case destTunPort:
			d.TunnelPort = ad.BigEndian16()
		case destTunFlags:
			d.TunnelFlags = TunnelFlags(ad.Uint16())
		case destStats:
			hasStats32 = true
			nad := ad.Nested()
			ad.fail(decodeStats(&nad, &stats32, false))
		case destStats64:
			hasStats64 = true
			nad := ad.Nested()
			ad.fail(decodeStats(&nad, &stats64, true))
		}
	}
	if err := ad.Err(); err != nil {
		return d, decodeError(err)
	}
	for _, a := range []uint16{destAddr, destPort, destFwdMethod, destWeight, destUThresh, destLThresh, destActiveConns, destInactConns, destPersistConns} {
		if !seen.has(a) {
			return d, fmt.Errorf("%w: destination lacks attribute %d", ErrMalformedReply, a)
		}
	}
	var err error
	if d.Address, err = decodeAddr(addr, d.Family); err != nil {
		return d, err
	}
	d.Stats = preferStats64(stats32, hasStats32, stats64, hasStats64)
	return d, nil
}

// encode adds d, in the order ipvsadm sends it: optional settings only
// where given, so the kernel applies its defaults.
func (d Daemon) encode(ae *attributeEncoder) error {
	ae.Uint32(daemonState, uint32(d.State))
	ae.String(daemonMcastIfn, d.Interface)
	ae.Uint32(daemonSyncID, d.SyncID)
	if d.MaxLength != 0 {
		ae.Uint16(daemonSyncMaxlen, d.MaxLength)
	}
	if d.Port != 0 {
		// Unlike every other port of the family, in host order.
		ae.Uint16(daemonMcastPort, d.Port)
	}
	if d.TTL != 0 {
		ae.Uint8(daemonMcastTTL, d.TTL)
	}
	switch {
	case d.Group.Is4():
		a := d.Group.As4()
		ae.Bytes(daemonMcastGroup, a[:])
	case d.Group.IsValid():
		a := d.Group.As16()
		ae.Bytes(daemonMcastGrp6, a[:])
	}
	return nil
}

func decodeDaemonReply(ad *attributeDecoder) (Daemon, error) {
	var d Daemon
	found := false
	for ad.Next() {
		if ad.Type() == attrDaemon {
			found = true
			nad := ad.Nested()
			var err error
			d, err = decodeDaemon(&nad)
			ad.fail(err)
		}
	}
	if err := ad.Err(); err != nil {
		return Daemon{}, decodeError(err)
	}
	if !found {
		return Daemon{}, fmt.Errorf("%w: no daemon attribute", ErrMalformedReply)
	}
	return d, nil
}

func decodeDaemon(ad *attributeDecoder) (Daemon, error) {
	var d Daemon
	var seen attributeSet
	var ifname []byte // made a string once, after the loop
	for ad.Next() {
		seen.add(ad.Type())
		switch ad.Type() {
		case daemonState:
			d.State = DaemonState(ad.Uint32())
		case daemonMcastIfn:
			ifname = ad.Bytes()
		case daemonSyncID:
			d.SyncID = ad.Uint32()
		case daemonSyncMaxlen:
			d.MaxLength = ad.Uint16()
		case daemonMcastPort:
			d.Port = ad.Uint16()
		case daemonMcastTTL:
			d.TTL = ad.Uint8()
		case daemonMcastGroup:
			b := ad.Bytes()
			if len(b) != 4 {
				return d, fmt.Errorf("%w: IPv4 group of %d bytes", ErrMalformedReply, len(b))
			}
			d.Group = netip.AddrFrom4([4]byte(b))
		case daemonMcastGrp6:
			b := ad.Bytes()
			if len(b) != 16 {
				return d, fmt.Errorf("%w: IPv6 group of %d bytes", ErrMalformedReply, len(b))
			}
			d.Group = netip.AddrFrom16([16]byte(b))
		}
	}
	if err := ad.Err(); err != nil {
		return d, decodeError(err)
	}
	if !seen.has(daemonState) || !seen.has(daemonMcastIfn) || !seen.has(daemonSyncID) {
		return d, fmt.Errorf("%w: daemon lacks a mandatory attribute", ErrMalformedReply)
	}
	d.Interface = cString(ifname)
	return d, nil
}

func decodeTimeouts(ad *attributeDecoder) (Timeouts, error) {
	var t Timeouts
	for ad.Next() {
		switch ad.Type() {
		case attrTimeoutTCP:
			t.TCP = time.Duration(ad.Uint32()) * time.Second
		case attrTimeoutFin:
			t.TCPFin = time.Duration(ad.Uint32()) * time.Second
		case attrTimeoutUDP:
			t.UDP = time.Duration(ad.Uint32()) * time.Second
		}
	}
	return t, decodeError(ad.Err())
}

func decodeInfo(ad *attributeDecoder) (Info, error) {
	var info Info
	var hasVersion, hasSize bool
	for ad.Next() {
		switch ad.Type() {
		case infoVersion:
			hasVersion = true
			info.Version = Version(ad.Uint32())
		case infoConnTabSize:
			hasSize = true
			info.ConnectionTableSize = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return Info{}, decodeError(err)
	}
	if !hasVersion || !hasSize {
		return Info{}, fmt.Errorf("%w: info lacks version or table size", ErrMalformedReply)
	}
	return info, nil
}

// decodeError marks a decoder's error (an attribute of the wrong size, a
// truncated attribute) as a malformed reply.
func decodeError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrMalformedReply) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrMalformedReply, err)
}
