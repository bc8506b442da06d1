package ipvsmsg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// Numbers of include/uapi/linux/ip_vs.h, linux/netlink.h and
// linux/genetlink.h.
const (
	genlVersion = 1 // IPVS_GENL_VERSION

	cmdNewService = 1 // IPVS_CMD_NEW_SERVICE
	cmdNewDest    = 5 // IPVS_CMD_NEW_DEST

	attrService = 1 // IPVS_CMD_ATTR_SERVICE
	attrDest    = 2 // IPVS_CMD_ATTR_DEST

	svcAF        = 1 // IPVS_SVC_ATTR_AF
	svcProtocol  = 2 // IPVS_SVC_ATTR_PROTOCOL
	svcAddr      = 3 // IPVS_SVC_ATTR_ADDR
	svcPort      = 4 // IPVS_SVC_ATTR_PORT
	svcSchedName = 6 // IPVS_SVC_ATTR_SCHED_NAME
	svcFlags     = 7 // IPVS_SVC_ATTR_FLAGS
	svcTimeout   = 8 // IPVS_SVC_ATTR_TIMEOUT
	svcNetmask   = 9 // IPVS_SVC_ATTR_NETMASK

	destAddr       = 1  // IPVS_DEST_ATTR_ADDR
	destPort       = 2  // IPVS_DEST_ATTR_PORT
	destFwdMethod  = 3  // IPVS_DEST_ATTR_FWD_METHOD
	destWeight     = 4  // IPVS_DEST_ATTR_WEIGHT
	destUThresh    = 5  // IPVS_DEST_ATTR_U_THRESH
	destLThresh    = 6  // IPVS_DEST_ATTR_L_THRESH
	destAddrFamily = 11 // IPVS_DEST_ATTR_ADDR_FAMILY

	afInet      = 2 // AF_INET
	protoTCP    = 6 // IPPROTO_TCP
	connFMasq   = 0 // IP_VS_CONN_F_MASQ
	nlaFNested  = 0x8000
	nlmFRequest = 0x1
	nlmFAck     = 0x4
	nlmsgNoop   = 0x1 // NLMSG_NOOP

	nlmsgHdrLen = 16              // struct nlmsghdr
	headerLen   = nlmsgHdrLen + 4 // and struct genlmsghdr
)

// FamilyPlaceholder is the nlmsg_type of every message in a file until
// SetFamily replaces it with the IPVS family's id (ids of dynamic
// families start at GENL_MIN_ID, 16; 0 is never one).
const FamilyPlaceholder = 0

// AppendRestore appends the requests that load set s into an empty table,
// numbered from sequence number seq, and returns the extended buffer and
// the next sequence number.
func AppendRestore(b []byte, s ruleset.Set, seq uint32) ([]byte, uint32) {
	for i := range s.Services {
		svc := s.Service(i)
		b = AppendNewService(b, seq, svc)
		seq++
		for j := range s.DestsPerService {
			b = AppendNewDest(b, seq, svc, s.Destination(i, j))
			seq++
		}
	}
	return b, seq
}

// AppendNewService appends an IPVS_CMD_NEW_SERVICE request for svc, a TCP
// service with no persistence, flags or persistence engine, as ipvsadm -A
// sends it: the netmask is 255.255.255.255, ipvsadm's default.
func AppendNewService(b []byte, seq uint32, svc ruleset.Service) []byte {
	start := len(b)
	b = appendHeader(b, seq, cmdNewService)
	nest := len(b)
	b = appendAttr(b, attrService|nlaFNested, nil)
	b = appendServiceKey(b, svc)
	b = appendAttr(b, svcSchedName, append([]byte(svc.Scheduler), 0))
	// struct ip_vs_flags {flags, mask}: no flag set, every flag given.
	b = appendAttr(b, svcFlags, []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	b = appendAttr(b, svcTimeout, binary.NativeEndian.AppendUint32(nil, 0))
	b = appendAttr(b, svcNetmask, []byte{0xff, 0xff, 0xff, 0xff})
	endNest(b, nest)
	return endMessage(b, start)
}

// AppendNewDest appends an IPVS_CMD_NEW_DEST request adding d to svc. The
// service is named by its key alone, all the kernel reads of it here.
func AppendNewDest(b []byte, seq uint32, svc ruleset.Service, d ruleset.Destination) []byte {
	start := len(b)
	b = appendHeader(b, seq, cmdNewDest)
	nest := len(b)
	b = appendAttr(b, attrService|nlaFNested, nil)
	b = appendServiceKey(b, svc)
	endNest(b, nest)
	nest = len(b)
	b = appendAttr(b, attrDest|nlaFNested, nil)
	b = appendAttr(b, destAddr, addr16(d.Address))
	b = appendAttr(b, destPort, binary.BigEndian.AppendUint16(nil, d.Port))
	b = appendAttr(b, destFwdMethod, binary.NativeEndian.AppendUint32(nil, connFMasq))
	b = appendAttr(b, destWeight, binary.NativeEndian.AppendUint32(nil, d.Weight))
	b = appendAttr(b, destUThresh, binary.NativeEndian.AppendUint32(nil, 0))
	b = appendAttr(b, destLThresh, binary.NativeEndian.AppendUint32(nil, 0))
	b = appendAttr(b, destAddrFamily, binary.NativeEndian.AppendUint16(nil, afInet))
	endNest(b, nest)
	return endMessage(b, start)
}

func appendServiceKey(b []byte, svc ruleset.Service) []byte {
	b = appendAttr(b, svcAF, binary.NativeEndian.AppendUint16(nil, afInet))
	b = appendAttr(b, svcProtocol, binary.NativeEndian.AppendUint16(nil, protoTCP))
	b = appendAttr(b, svcAddr, addr16(svc.Address))
	return appendAttr(b, svcPort, binary.BigEndian.AppendUint16(nil, svc.Port))
}

// appendHeader appends struct nlmsghdr (its length filled in by
// endMessage) and struct genlmsghdr. The request asks for no ack: the
// kernel answers it only if it fails (netlink_rcv_skb), as our ipvs
// package sends them; RequestAcks makes it ask.
func appendHeader(b []byte, seq uint32, cmd uint8) []byte {
	b = binary.NativeEndian.AppendUint32(b, 0) // nlmsg_len
	b = binary.NativeEndian.AppendUint16(b, FamilyPlaceholder)
	b = binary.NativeEndian.AppendUint16(b, nlmFRequest)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // nlmsg_pid: the kernel
	return append(b, cmd, genlVersion, 0, 0)
}

func endMessage(b []byte, start int) []byte {
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// appendAttr appends struct nlattr and value, padded to 4 bytes; the
// length counts the value without the padding.
func appendAttr(b []byte, typ uint16, value []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(value)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, value...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// endNest sets the length of the nest that starts at start to cover what
// was appended since.
func endNest(b []byte, start int) {
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
}

// addr16 is union nf_inet_addr: 16 bytes, an IPv4 address in the first 4.
func addr16(a netip.Addr) []byte {
	b := make([]byte, 16)
	a4 := a.As4()
	copy(b, a4[:])
	return b
}

// AppendNoop appends the no-op that ends a batch of requests that ask for
// no ack: a bare struct nlmsghdr of type NLMSG_NOOP with
// NLM_F_REQUEST|NLM_F_ACK. The kernel handles the messages of one sendmsg
// in order and acks the no-op (an NLMSG_ERROR of error 0 with its
// sequence number) after the last of them, so once that ack is in, every
// request before it that had no error answer has succeeded.
func AppendNoop(b []byte, seq uint32) []byte {
	b = binary.NativeEndian.AppendUint32(b, nlmsgHdrLen)
	b = binary.NativeEndian.AppendUint16(b, nlmsgNoop)
	b = binary.NativeEndian.AppendUint16(b, nlmFRequest|nlmFAck)
	b = binary.NativeEndian.AppendUint32(b, seq)
	return binary.NativeEndian.AppendUint32(b, 0) // nlmsg_pid: the kernel
}

// SetFamily writes family into the nlmsg_type of every message of b and
// returns how many there are. It fails on a buffer that is not whole
// messages.
func SetFamily(b []byte, family uint16) (int, error) {
	return eachMessage(b, func(m []byte) { binary.NativeEndian.PutUint16(m[4:], family) })
}

// RequestAcks sets NLM_F_ACK in every message of b, which makes them the
// requests ipvsadm 1.31 sends (it asks for an ack of each and reads it
// before the next), and returns how many there are. It fails on a buffer
// that is not whole messages.
func RequestAcks(b []byte) (int, error) {
	return eachMessage(b, func(m []byte) {
		binary.NativeEndian.PutUint16(m[6:], binary.NativeEndian.Uint16(m[6:])|nlmFAck)
	})
}

// eachMessage calls fn with every message of b, in order, and returns how
// many there are; it stops at the first that is not whole.
func eachMessage(b []byte, fn func(m []byte)) (int, error) {
	n := 0
	for off := 0; off < len(b); n++ {
		l, err := messageLen(b[off:])
		if err != nil {
			return n, fmt.Errorf("message %d at byte %d: %w", n+1, off, err)
		}
		fn(b[off : off+l])
		off += l
	}
	return n, nil
}

// Split returns the length of each message of b, in order, checking that
// b is whole messages.
func Split(b []byte) ([]int, error) {
	var lens []int
	for off := 0; off < len(b); {
		l, err := messageLen(b[off:])
		if err != nil {
			return nil, fmt.Errorf("message %d at byte %d: %w", len(lens)+1, off, err)
		}
		lens = append(lens, l)
		off += l
	}
	return lens, nil
}

var errShort = errors.New("truncated netlink message")

// messageLen is the length of the message at the start of b, aligned to
// 4 bytes as netlink lays messages out.
func messageLen(b []byte) (int, error) {
	if len(b) < headerLen {
		return 0, errShort
	}
	l := int(binary.NativeEndian.Uint32(b))
	if l < headerLen || l > len(b) {
		return 0, errShort
	}
	return min((l+3)&^3, len(b)), nil
}
