package compat

import (
	"net/netip"
	"strings"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// The value parsers of ipvsadm 1.31 (§3 of the reference) and the C library
// functions they stand on: strtol, atoi, inet_aton, inet_pton and
// getservbyname. Each follows glibc to the byte, because the forms C accepts
// by accident ("+80", " 60", "0x7f000001", "1.2.3.4 junk") are forms a rule
// file may contain.

// cIsSpace is isspace in the C locale.
func cIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// cIsDigit is isdigit.
func cIsDigit(c byte) bool { return '0' <= c && c <= '9' }

// hexValue is the value of a hexadecimal digit, or -1.
func hexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// hexDigits is hexValue as a table, 0xff for a byte that is no digit: one
// load and one comparison per character of an address.
var hexDigits = func() (t [256]uint8) {
	for c := range t {
		t[c] = 0xff
		if d := hexValue(byte(c)); d >= 0 {
			t[c] = uint8(d)
		}
	}
	return t
}()

// strtol is C's strtol(s, &end, 10) on a 64-bit long: leading white space,
// an optional sign, decimal digits. It returns the value (clamped to the
// int64 range on overflow, as strtol clamps), where the number ends (0 when
// there are no digits, as strtol then points end at s) and whether it
// overflowed (ERANGE).
func strtol(s string) (n int64, end int, overflow bool) {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	// Accumulate the magnitude as uint64; 1<<63 is the largest that fits
	// (LONG_MIN's magnitude). As glibc, compare with a cutoff rather
	// than divide for every digit.
	const cutoff, cutlim = (1 << 63) / 10, (1 << 63) % 10
	var u uint64
	for i < len(s) && cIsDigit(s[i]) {
		d := uint64(s[i] - '0')
		if overflow || u > cutoff || u == cutoff && d > cutlim {
			overflow = true
		} else {
			u = u*10 + d
		}
		i++
	}
	if i == start {
		return 0, 0, false
	}
	switch {
	case neg && (overflow || u > 1<<63):
		return -1 << 63, i, true
	case neg:
		return -int64(u), i, false
	case overflow || u > 1<<63-1:
		return 1<<63 - 1, i, true
	}
	return int64(u), i, false
}

// stringToNumber is ipvsadm's string_to_number: the whole of s is a strtol
// number from min to max. So " 60", "+60" and "0600" (600) pass, "0x10",
// "60x" and "" do not.
func stringToNumber(s string, min, max int64) (int64, bool) {
	n, end, overflow := strtol(s)
	if end == 0 || end != len(s) || overflow || n < min || n > max {
		return 0, false
	}
	return n, true
}

// atoi is C's atoi: strtol's value, whatever follows it, cut to an int.
func atoi(s string) int32 {
	n, _, _ := strtol(s)
	return int32(n)
}

// parseFwmark is ipvsadm's parse_fwmark: strtol into an unsigned long,
// refused when not all of s is a number or the value is not 1 to
// 4294967295 (a negative number turns into a huge unsigned one).
func parseFwmark(s string) (uint32, bool) {
	n, end, overflow := strtol(s)
	if end == 0 || end != len(s) || overflow || n <= 0 || n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// inetAton is glibc 2.36's inet_aton: one to four parts separated by dots,
// each decimal, octal (leading 0) or hexadecimal (leading 0x); the last part
// fills the remaining bytes ("1.2" is 1.0.0.2, "0x7f000001" is 127.0.0.1).
// Anything after a white-space character is ignored, as glibc ignores it.
// The address is returned as a number, 1.2.3.4 being 0x01020304.
func inetAton(s string) (uint32, bool) {
	var addr uint32
	parts := 0
	i := 0
	var val uint64
	for {
		if i >= len(s) || !cIsDigit(s[i]) {
			return 0, false
		}
		// strtoul(s, &end, 0) from a digit.
		base := uint64(10)
		if s[i] == '0' {
			base = 8
			if i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') && hexValue(s[i+2]) >= 0 {
				base = 16
				i += 2
			}
		}
		val = 0
		for ; i < len(s); i++ {
			d := uint64(hexDigits[s[i]])
			if d >= base {
				break
			}
			// Past 32 bits the part is refused whatever follows, so
			// stop growing there.
			if val <= 0xffffffff {
				val = val*base + uint64(d)
			}
		}
		if val > 0xffffffff {
			return 0, false
		}
		if i < len(s) && s[i] == '.' {
			if parts > 2 || val > 0xff {
				return 0, false
			}
			addr |= uint32(val) << (24 - 8*parts)
			parts++
			i++
			continue
		}
		break
	}
	if i < len(s) && !cIsSpace(s[i]) {
		return 0, false
	}
	if val > uint64(0xffffffff)>>(8*parts) {
		return 0, false
	}
	return addr | uint32(val), true
}

// inetPton4 is glibc's inet_pton(AF_INET): exactly four decimal parts from
// 0 to 255, without leading zeros.
func inetPton4(s string) ([4]byte, bool) {
	var a [4]byte
	octets := 0
	sawDigit := false
	cur := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case cIsDigit(c):
			if sawDigit && cur == 0 {
				return a, false // a leading zero
			}
			cur = cur*10 + int(c-'0')
			if cur > 255 {
				return a, false
			}
			if !sawDigit {
				if octets == 4 {
					return a, false
				}
				octets++
				sawDigit = true
			}
			a[octets-1] = byte(cur)
		case c == '.' && sawDigit:
			if octets == 4 {
				return a, false
			}
			cur, sawDigit = 0, false
		default:
			return a, false
		}
	}
	return a, octets == 4
}

// inetPton6 is glibc's inet_pton(AF_INET6): eight groups of up to four hex
// digits, one "::" for a run of at least one zero group, an IPv4 dotted quad
// as the last 32 bits. There is no scope ("%eth0").
func inetPton6(s string) ([16]byte, bool) {
	var a [16]byte
	// Every address has two colons at least (a "::", or six groups before
	// a dotted quad, or seven between eight groups): the "10.0.0.1:80"
	// that parseService tries first needs no more reading than that.
	if i := strings.IndexByte(s, ':'); i < 0 || strings.IndexByte(s[i+1:], ':') < 0 {
		return a, false
	}
	i := 0
	if s[0] == ':' {
		if len(s) < 2 || s[1] != ':' {
			return a, false
		}
		i = 1
	}
	tp := 0
	colon := -1
	curtok := i
	digits := 0
	val := 0
	for i < len(s) {
		c := s[i]
		i++
		if d := hexDigits[c]; d != 0xff {
			if digits == 4 {
				return a, false
			}
			val = val<<4 | int(d)
			digits++
			continue
		}
		if c == ':' {
			curtok = i
			if digits == 0 {
				if colon >= 0 {
					return a, false
				}
				colon = tp
				continue
			}
			if i == len(s) || tp+2 > 16 {
				return a, false
			}
			a[tp], a[tp+1] = byte(val>>8), byte(val)
			tp += 2
			digits, val = 0, 0
			continue
		}
		if c == '.' && tp+4 <= 16 {
			v4, ok := inetPton4(s[curtok:])
			if !ok {
				return a, false
			}
			copy(a[tp:], v4[:])
			tp += 4
			digits = 0
			break
		}
		return a, false
	}
	if digits > 0 {
		if tp+2 > 16 {
			return a, false
		}
		a[tp], a[tp+1] = byte(val>>8), byte(val)
		tp += 2
	}
	if colon >= 0 {
		if tp == 16 {
			return a, false
		}
		n := tp - colon
		copy(a[16-n:], a[colon:tp])
		for j := colon; j < 16-n; j++ {
			a[j] = 0
		}
		tp = 16
	}
	return a, tp == 16
}

// hostToAddr is ipvsadm's inet_aton with the host_to_addr fallback: a
// numeric IPv4 address, else the first IPv4 address of a host name.
func hostToAddr(s string, names Names) (netip.Addr, bool) {
	if n, ok := inetAton(s); ok {
		return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
	}
	if names == nil {
		return netip.Addr{}, false
	}
	a, ok := names.HostAddr(s)
	if a = a.Unmap(); !ok || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// serviceToPort is ipvsadm's service_to_port: getservbyname with the
// protocol's name; protocol 0 (a -r before any service) finds nothing.
func serviceToPort(name string, proto ipvs.Protocol, names Names) (uint16, bool) {
	var p string
	switch proto {
	case ipvs.TCP:
		p = "tcp"
	case ipvs.UDP:
		p = "udp"
	case ipvs.SCTP:
		p = "sctp"
	default:
		return 0, false
	}
	if names == nil {
		return 0, false
	}
	return names.ServicePort(name, p)
}

// An endpoint is what parse_service reads from host[:port]: the address,
// and the port when one was given.
type endpoint struct {
	addr    netip.Addr
	port    uint16
	hasPort bool
}

// parseService is ipvsadm's parse_service for a -t/-u/--sctp-service or -r
// argument; proto is the service's protocol so far, for port names. It
// keeps ipvsadm's shapes: digits alone are refused ("-t 80"), "[v6]:port"
// needs its port, an unbracketed IPv6 literal has no port ("-t ::1"), and
// a bracketed IPv4 address or name loses its port ("[1.2.3.4]:99"), since
// the port is searched for again inside the brackets.
func parseService(buf string, proto ipvs.Protocol, names Names) (endpoint, bool) {
	var e endpoint
	if allDigits(buf) {
		return e, false
	}
	host := buf
	port := ""
	sep := false
	if buf[0] == '[' {
		end := strings.IndexByte(buf, ']')
		if end < 0 || end+1 >= len(buf) || buf[end+1] != ':' {
			return e, false
		}
		host, port, sep = buf[1:end], buf[end+2:], true
	}
	if a, ok := inetPton6(host); ok {
		e.addr = netip.AddrFrom16(a)
	} else {
		// The port is after the last colon of what is left; a port
		// found after the brackets is forgotten.
		sep = false
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host, port, sep = host[:i], host[i+1:], true
		}
		a, ok := hostToAddr(host, names)
		if !ok {
			return e, false
		}
		e.addr = a
	}
	if sep {
		n, ok := stringToNumber(port, 0, 65535)
		if ok {
			e.port = uint16(n)
		} else if e.port, ok = serviceToPort(port, proto, names); !ok {
			return endpoint{}, false
		}
		e.hasPort = true
	}
	return e, true
}

// allDigits is ipvsadm's str_is_digit, true for "" too.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !cIsDigit(s[i]) {
			return false
		}
	}
	return true
}

// parseNetmask is -M for an IPv4 (or not yet known) service: inet_aton,
// then gethostbyname, so "-M 24" is 0.0.0.24, not /24.
func parseNetmask(s string, names Names) (ipvs.Netmask, bool) {
	a, ok := hostToAddr(s, names)
	if !ok {
		return 0, false
	}
	b := a.As4()
	return ipvs.Netmask(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), true
}

// parseMcastGroup is --mcast-group: with a colon an IPv6 multicast address
// (ff00::/8, IPv4-mapped addresses included in the test as C tests the
// first byte), else an IPv4 one in 224.0.0.0/4, both as inet_pton reads
// them. The message is ipvsadm's when it is not.
func parseMcastGroup(s string) (netip.Addr, string) {
	if strings.IndexByte(s, ':') >= 0 {
		a, ok := inetPton6(s)
		if !ok || a[0] != 0xff {
			return netip.Addr{}, "invalid IPv6 mcast-group `" + s + "'"
		}
		return netip.AddrFrom16(a), ""
	}
	a, ok := inetPton4(s)
	if !ok || a[0]&0xf0 != 0xe0 {
		return netip.Addr{}, "invalid IPv4 mcast-group `" + s + "'"
	}
	return netip.AddrFrom4(a), ""
}

// parseTunnelType is --tun-type.
func parseTunnelType(s string) (ipvs.TunnelType, bool) {
	switch s {
	case "ipip":
		return ipvs.IPIP, true
	case "gue":
		return ipvs.GUE, true
	case "gre":
		return ipvs.GRE, true
	}
	return 0, false
}

// schedFlagsMax is the size of ipvsadm's copy of the -b argument, 127
// bytes and a NUL: a longer list is cut before it is parsed.
const schedFlagsMax = 127

// parseSchedFlags is ipvsadm's parse_sched_flags: a comma-separated list
// for the scheduler sched ("" meaning wlc), empty items skipped. It returns
// the flags, or ipvsadm's message for the first bad item.
//
// ipvsadm 1.31 dies of SIGSEGV when the list has no item at all ("-b ,"):
// strtok finds nothing and the first item is compared while NULL. We treat
// such a list as the empty list it is, which sets no flag, the way the
// empty items of ",sh-port" are skipped.
func parseSchedFlags(sched, list string) (ipvs.ServiceFlags, string) {
	if sched == "" {
		sched = "wlc"
	}
	var flags ipvs.ServiceFlags
	for len(list) > 0 {
		item := list
		if i := strings.IndexByte(list, ','); i >= 0 {
			item, list = list[:i], list[i+1:]
		} else {
			list = ""
		}
		var want string // the scheduler the flag is for, if any
		switch item {
		case "":
			continue
		case "flag-1":
			flags |= ipvs.FlagSched1
		case "flag-2":
			flags |= ipvs.FlagSched2
		case "flag-3":
			flags |= ipvs.FlagSched3
		case "sh-fallback":
			flags |= ipvs.FlagSched1
			want = "sh"
		case "sh-port":
			flags |= ipvs.FlagSched2
			want = "sh"
		case "mh-fallback":
			flags |= ipvs.FlagSched1
			want = "mh"
		case "mh-port":
			flags |= ipvs.FlagSched2
			want = "mh"
		default:
			return 0, "invalid scheduler flag `" + item + "'"
		}
		if want != "" && sched != want {
			return 0, "incompatible scheduler flag `" + item + "'"
		}
	}
	return flags, ""
}
