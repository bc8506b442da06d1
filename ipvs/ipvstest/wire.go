//go:build linux

package ipvstest

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// This file decodes and encodes netlink attributes the way the kernel does,
// independently of github.com/mdlayher/netlink's AttributeDecoder, so that the
// emulation accepts exactly what the kernel accepts.

// nlaKind is the type of an entry in a kernel attribute policy.
type nlaKind uint8

const (
	nlaUnspec nlaKind = iota // len, if set, is a minimum length
	nlaU8
	nlaU16
	nlaU32
	nlaNested
	nlaBinary    // len is a maximum length
	nlaNulString // len is the maximum string length without the NUL
)

type nlaPolicy struct {
	kind nlaKind
	len  int
}

// The policies of ip_vs_ctl.c (ip_vs_cmd_policy, ip_vs_svc_policy,
// ip_vs_dest_policy, ip_vs_daemon_policy). Attributes missing from a policy
// (the STATS64 nests) are not validated.
var (
	cmdPolicy = []nlaPolicy{
		cmdAttrService:    {kind: nlaNested},
		cmdAttrDest:       {kind: nlaNested},
		cmdAttrDaemon:     {kind: nlaNested},
		cmdAttrTimeoutTCP: {kind: nlaU32},
		cmdAttrTimeoutFin: {kind: nlaU32},
		cmdAttrTimeoutUDP: {kind: nlaU32},
	}
	svcPolicy = []nlaPolicy{
		svcAttrAF:       {kind: nlaU16},
		svcAttrProtocol: {kind: nlaU16},
		svcAttrAddr:     {kind: nlaBinary, len: 16},
		svcAttrPort:     {kind: nlaU16},
		svcAttrFWMark:   {kind: nlaU32},
		svcAttrSched:    {kind: nlaNulString, len: schedNameSize - 1},
		svcAttrFlags:    {kind: nlaBinary, len: 8},
		svcAttrTimeout:  {kind: nlaU32},
		svcAttrNetmask:  {kind: nlaU32},
		svcAttrStats:    {kind: nlaNested},
		svcAttrPEName:   {kind: nlaNulString, len: peNameSize},
		svcAttrStats64:  {},
	}
	destPolicy = []nlaPolicy{
		destAttrAddr:       {kind: nlaBinary, len: 16},
		destAttrPort:       {kind: nlaU16},
		destAttrFwdMethod:  {kind: nlaU32},
		destAttrWeight:     {kind: nlaU32},
		destAttrUThresh:    {kind: nlaU32},
		destAttrLThresh:    {kind: nlaU32},
		destAttrActive:     {kind: nlaU32},
		destAttrInact:      {kind: nlaU32},
		destAttrPersist:    {kind: nlaU32},
		destAttrStats:      {kind: nlaNested},
		destAttrAddrFamily: {kind: nlaU16},
		destAttrStats64:    {},
		destAttrTunType:    {kind: nlaU8},
		destAttrTunPort:    {kind: nlaU16},
		destAttrTunFlags:   {kind: nlaU16},
	}
	daemonPolicy = []nlaPolicy{
		daemonAttrState:      {kind: nlaU32},
		daemonAttrMcastIfn:   {kind: nlaNulString, len: ifNameSize - 1},
		daemonAttrSyncID:     {kind: nlaU32},
		daemonAttrSyncMaxLen: {kind: nlaU16},
		daemonAttrMcastGroup: {kind: nlaU32},
		daemonAttrMcastGrp6:  {kind: nlaUnspec, len: 16},
		daemonAttrMcastPort:  {kind: nlaU16},
		daemonAttrMcastTTL:   {kind: nlaU8},
	}
	// ctrl_policy_family of genetlink.c.
	ctrlPolicy = []nlaPolicy{
		ctrlAttrFamilyID:  {kind: nlaU16},
		ctrlAttrFamilyNam: {kind: nlaNulString, len: genlNameSize - 1},
	}
)

// attrs holds parsed attributes indexed by type; nil means absent. A present
// attribute with an empty payload is a non-nil empty slice.
type attrs [][]byte

// parseAttrs parses b as the kernel's __nla_parse does for IPVS, whose
// operations are all GENL_DONT_VALIDATE_STRICT: attributes of unknown type are
// skipped, a later duplicate replaces an earlier one, trailing bytes that do
// not form an attribute are ignored, and each known attribute is validated
// against policy as validate_nla does in liberal mode. The returned errno is
// what validate_nla answers (mostly ERANGE).
func parseAttrs(b []byte, policy []nlaPolicy) (attrs, error) {
	maxType := len(policy) - 1
	tb := make(attrs, maxType+1)
	for len(b) >= nlaHdrLen {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		if l < nlaHdrLen || l > len(b) {
			break
		}
		typ := int(binary.NativeEndian.Uint16(b[2:4]) & nlaTypeMsk)
		data := b[nlaHdrLen:l:l]
		if typ > 0 && typ <= maxType {
			if err := validateAttr(data, policy[typ]); err != nil {
				return nil, err
			}
			tb[typ] = data
		}
		next := align4(l)
		if next > len(b) {
			break
		}
		b = b[next:]
	}
	return tb, nil
}

// validateAttr is validate_nla for the policy kinds IPVS uses.
func validateAttr(data []byte, p nlaPolicy) error {
	n := len(data)
	switch p.kind {
	case nlaU8:
		if n < 1 {
			return unix.ERANGE
		}
	case nlaU16:
		if n < 2 {
			return unix.ERANGE
		}
	case nlaU32:
		if n < 4 {
			return unix.ERANGE
		}
	case nlaNested:
		if n != 0 && n < nlaHdrLen {
			return unix.ERANGE
		}
	case nlaBinary:
		if p.len > 0 && n > p.len {
			return unix.ERANGE
		}
	case nlaNulString:
		m := n
		if p.len > 0 {
			m = min(n, p.len+1)
		}
		if m == 0 || bytes.IndexByte(data[:m], 0) < 0 {
			return unix.EINVAL
		}
		if p.len > 0 {
			if data[n-1] == 0 {
				n--
			}
			if n > p.len {
				return unix.ERANGE
			}
		}
	case nlaUnspec:
		if n < p.len {
			return unix.ERANGE
		}
	}
	return nil
}

// Getters for validated attributes, as nla_get_* read them: the leading bytes
// of the payload, host order unless the name says big-endian.

func (a attrs) has(t int) bool { return a[t] != nil }

func (a attrs) u8(t int) uint8   { return a[t][0] }
func (a attrs) u16(t int) uint16 { return binary.NativeEndian.Uint16(a[t]) }
func (a attrs) u32(t int) uint32 { return binary.NativeEndian.Uint32(a[t]) }
func (a attrs) be16(t int) uint16 {
	return binary.BigEndian.Uint16(a[t])
}

// bytes16 is nla_memcpy into a 16-byte union nf_inet_addr: a short payload
// leaves the rest zero.
func (a attrs) bytes16(t int) [16]byte {
	var v [16]byte
	copy(v[:], a[t])
	return v
}

// str reads a NUL-terminated string attribute up to its first NUL.
func (a attrs) str(t int) string {
	b := a[t]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func align4(n int) int { return (n + 3) &^ 3 }

// nlaWriter builds attributes the way nla_put and friends lay them out:
// a 4-byte header, the payload, zero padding to 4 bytes. Nests are started
// without NLA_F_NESTED, as nla_nest_start_noflag does.
type nlaWriter struct {
	b []byte
}

func (w *nlaWriter) put(typ uint16, data []byte) {
	l := nlaHdrLen + len(data)
	w.b = binary.NativeEndian.AppendUint16(w.b, uint16(l))
	w.b = binary.NativeEndian.AppendUint16(w.b, typ)
	w.b = append(w.b, data...)
	w.b = append(w.b, make([]byte, align4(l)-l)...)
}

func (w *nlaWriter) u8(typ uint16, v uint8) { w.put(typ, []byte{v}) }

func (w *nlaWriter) u16(typ uint16, v uint16) {
	w.put(typ, binary.NativeEndian.AppendUint16(nil, v))
}

func (w *nlaWriter) be16(typ uint16, v uint16) {
	w.put(typ, binary.BigEndian.AppendUint16(nil, v))
}

func (w *nlaWriter) u32(typ uint16, v uint32) {
	w.put(typ, binary.NativeEndian.AppendUint32(nil, v))
}

// u64 is nla_put_u64_64bit on an architecture with efficient unaligned
// access (x86-64, arm64): no IPVS_STATS_ATTR_PAD attribute is inserted.
func (w *nlaWriter) u64(typ uint16, v uint64) {
	w.put(typ, binary.NativeEndian.AppendUint64(nil, v))
}

// str is nla_put_string: the string and its NUL.
func (w *nlaWriter) str(typ uint16, s string) {
	w.put(typ, append([]byte(s), 0))
}

func (w *nlaWriter) nestStart(typ uint16) int {
	start := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	binary.NativeEndian.PutUint16(w.b[start+2:], typ)
	return start
}

func (w *nlaWriter) nestEnd(start int) {
	binary.NativeEndian.PutUint16(w.b[start:], uint16(len(w.b)-start))
}

// nlmsg lays out one netlink message: header, then payload padded to 4 bytes.
func nlmsg(typ, flags uint16, seq, pid uint32, payload []byte) []byte {
	l := nlmsgHdrLen + len(payload)
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+align4(len(payload)))
	binary.NativeEndian.PutUint32(b[0:], uint32(l))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	binary.NativeEndian.PutUint32(b[12:], pid)
	b = append(b, payload...)
	return append(b, make([]byte, align4(l)-l)...)
}

// genlPayload prefixes attributes with a generic netlink header.
func genlPayload(cmd, version uint8, attrs []byte) []byte {
	return append([]byte{cmd, version, 0, 0}, attrs...)
}
