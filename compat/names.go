package compat

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// This file is how ipvsadm names things: addresses and ports as its
// listings print them (addrport_to_anyname over glibc's inet_ntop,
// gethostbyaddr and getservbyport), and the Names that answer the lookups,
// from /etc/hosts, /etc/services and DNS as glibc does.

// maxAddrPort is the longest text addrport_to_anyname returns: ipvsadm 1.31
// formats it with snprintf into 60 bytes, so a long host name cuts the port.
const maxAddrPort = 59

// An inetAddr is an address as ipvsadm holds it, C's union nf_inet_addr:
// sixteen bytes, of which an IPv4 address uses the first four and leaves the
// rest zero. The family that goes with it is kept apart, as in ipvsadm,
// where a listing may read an address with another entry's family (the
// destination sort compares with the first entry's).
type inetAddr [16]byte

// inetAddrOf returns a's union; the zero Addr (a firewall-mark service's)
// is all zeros.
func inetAddrOf(a netip.Addr) (u inetAddr) {
	switch {
	case a.Is4():
		v := a.As4()
		copy(u[:], v[:])
	case a.IsValid():
		u = a.As16()
	}
	return u
}

// word returns the i-th 32-bit word in host order, ntohl(s6_addr32[i]);
// word(0) is ntohl(addr.ip).
func (u *inetAddr) word(i int) uint32 { return binary.BigEndian.Uint32(u[4*i:]) }

// addr returns the address u holds in family af, and false for a family
// that is neither IPv4 nor IPv6.
func (u *inetAddr) addr(af ipvs.Family) (netip.Addr, bool) {
	switch af {
	case ipvs.IPv4:
		return netip.AddrFrom4([4]byte(u[:4])), true
	case ipvs.IPv6:
		return netip.AddrFrom16(*u), true
	}
	return netip.Addr{}, false
}

// protoName is the protocol name getservbyport is asked with; ipvsadm asks
// only for TCP, UDP and SCTP and prints any other port in decimal.
func protoName(p ipvs.Protocol) string {
	switch p {
	case ipvs.TCP:
		return "tcp"
	case ipvs.UDP:
		return "udp"
	case ipvs.SCTP:
		return "sctp"
	}
	return ""
}

// appendAddrPort appends address and port as ipvsadm 1.31's
// addrport_to_anyname: "a.b.c.d:port" for IPv4 and "[text]:port" for any
// other family (a host name too is bracketed); numeric prints inet_ntop and
// the decimal port, otherwise the gethostbyaddr name and the getservbyport
// name of proto where there are. The whole is capped at 59 bytes.
func appendAddrPort(b []byte, af ipvs.Family, u *inetAddr, port uint16, proto ipvs.Protocol, numeric bool, names Names) []byte {
	start := len(b)
	if af != ipvs.IPv4 {
		b = append(b, '[')
	}
	host, ok := "", false
	if !numeric && names != nil {
		if a, known := u.addr(af); known {
			host, ok = names.AddrHost(a)
		}
	}
	if ok {
		b = append(b, host...)
	} else {
		b = appendInetNtop(b, af, u)
	}
	if af != ipvs.IPv4 {
		b = append(b, ']')
	}
	b = append(b, ':')
	service, ok := "", false
	if p := protoName(proto); !numeric && names != nil && p != "" {
		service, ok = names.PortService(port, p)
	}
	if ok {
		b = append(b, service...)
	} else {
		b = strconv.AppendUint(b, uint64(port), 10)
	}
	if len(b)-start > maxAddrPort {
		b = b[:start+maxAddrPort]
	}
	return b
}

// appendInetNtop appends the text glibc's inet_ntop gives the address in
// family af. For another family inet_ntop fails, and ipvsadm hands the NULL
// to printf, which prints "(null)".
func appendInetNtop(b []byte, af ipvs.Family, u *inetAddr) []byte {
	switch af {
	case ipvs.IPv4:
		return appendIPv4(b, u[:4])
	case ipvs.IPv6:
		return appendIPv6(b, u)
	}
	return append(b, "(null)"...)
}

// appendIPv4 appends the dotted quad of the four bytes a.
func appendIPv4(b []byte, a []byte) []byte {
	for i := range 4 {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(a[i]), 10)
	}
	return b
}

// appendIPv6 appends glibc's inet_ntop text of an IPv6 address: lower-case
// groups without leading zeros, the longest run of two or more zero groups
// (the first of equal runs) as "::", and a dotted IPv4 tail when the first
// six groups are zero or the address is ::ffff:a.b.c.d. Go's netip prints
// ::1.2.3.4 as ::102:304, so it cannot be used.
func appendIPv6(b []byte, u *inetAddr) []byte {
	var words [8]uint16
	for i := range words {
		words[i] = binary.BigEndian.Uint16(u[2*i:])
	}
	bestBase, bestLen := -1, 0
	curBase, curLen := -1, 0
	for i, w := range words {
		switch {
		case w == 0 && curBase == -1:
			curBase, curLen = i, 1
		case w == 0:
			curLen++
		case curBase != -1:
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < len(words); i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || bestLen == 5 && words[5] == 0xffff) {
			return appendIPv4(b, u[12:16])
		}
		b = strconv.AppendUint(b, uint64(words[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == len(words) {
		b = append(b, ':')
	}
	return b
}

// FileNames returns the Names that answer from the given contents of
// /etc/hosts and /etc/services alone, as glibc's files sources do; it never
// asks DNS. Tests and golden replays use it.
func FileNames(hosts, services []byte) Names {
	return &fileNames{hosts: parseHosts(hosts), services: parseServices(services)}
}

type fileNames struct {
	hosts    *hostsFile
	services *servicesFile
}

func (n *fileNames) HostAddr(name string) (netip.Addr, bool) {
	if a, ok, numeric := digitsDotsAddr(name); numeric {
		return a, ok
	}
	return n.hosts.addrOf(name)
}

func (n *fileNames) AddrHost(addr netip.Addr) (string, bool) {
	if unspecifiedIPv6(addr) {
		return "", false
	}
	return n.hosts.nameOf(addr)
}

func (n *fileNames) ServicePort(name, proto string) (uint16, bool) {
	return n.services.portOf(name, proto)
}

func (n *fileNames) PortService(port uint16, proto string) (string, bool) {
	return n.services.nameOf(port, proto)
}

// unspecifiedIPv6 reports whether a is ::, for which glibc's gethostbyaddr
// answers "not found" without asking any source.
func unspecifiedIPv6(a netip.Addr) bool { return a.Is6() && a.IsUnspecified() }

// digitsDotsAddr is glibc's shortcut in gethostbyname for names that are
// addresses, which it answers without asking any source: a name of digits
// and dots not ending in a dot is read with inet_aton ("1.2.3" is 1.2.0.3)
// or not found; an IPv6 literal (hex digits, colons and dots) is no IPv4
// address. numeric reports whether name is such a name.
func digitsDotsAddr(name string) (a netip.Addr, ok, numeric bool) {
	if name == "" || name[len(name)-1] == '.' {
		return netip.Addr{}, false, false
	}
	if cIsDigit(name[0]) && strings.Trim(name, "0123456789.") == "" {
		n, ok := inetAton(name)
		if !ok {
			return netip.Addr{}, false, true
		}
		return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true, true
	}
	if (hexValue(name[0]) >= 0 && strings.IndexByte(name, ':') >= 0 || name[0] == ':') &&
		strings.Trim(name, "0123456789abcdefABCDEF:.") == "" {
		return netip.Addr{}, false, true
	}
	return netip.Addr{}, false, false
}

// hostsFile is /etc/hosts as glibc's files source reads it: for a lookup of
// family af every line is read as an address of af, the first matching line
// wins, its first name is the canonical name (h_name), and names compare
// without regard to ASCII case.
type hostsFile struct {
	name4 map[[4]byte]string
	name6 map[[16]byte]string
	addr4 map[string][4]byte // lower-cased name or alias → first IPv4 address
}

func parseHosts(data []byte) *hostsFile {
	h := &hostsFile{
		name4: map[[4]byte]string{},
		name6: map[[16]byte]string{},
		addr4: map[string][4]byte{},
	}
	var fields []string
	for line := range lines(data) {
		fields = cFields(fields[:0], uncomment(line))
		if len(fields) == 0 {
			continue
		}
		// glibc reads the address with inet_pton, IPv6 first.
		var u [16]byte
		v6, is6 := inetPton6(fields[0])
		if is6 {
			u = v6
		} else if v4, is4 := inetPton4(fields[0]); is4 {
			copy(u[:], v4[:])
		} else {
			continue
		}
		// A line without names still matches its address, with the empty
		// name, as glibc parses it.
		names := fields[1:]
		canonical := ""
		if len(names) > 0 {
			canonical = names[0]
		}
		if is6 {
			if _, dup := h.name6[u]; !dup {
				h.name6[u] = canonical
			}
		}
		// An IPv4 lookup reads an IPv4-mapped line as its IPv4 address and
		// ::1 as 127.0.0.1 (glibc's files-hosts.c); other IPv6 lines do
		// not match it.
		var v4 [4]byte
		switch a := netip.AddrFrom16(u); {
		case !is6:
			v4 = [4]byte(u[:4])
		case a.Is4In6():
			v4 = a.Unmap().As4()
		case a == netip.IPv6Loopback():
			v4 = [4]byte{127, 0, 0, 1}
		default:
			continue
		}
		if _, dup := h.name4[v4]; !dup {
			h.name4[v4] = canonical
		}
		for _, name := range names {
			k := asciiLower(name)
			if _, dup := h.addr4[k]; !dup {
				h.addr4[k] = v4
			}
		}
	}
	return h
}

func (h *hostsFile) nameOf(a netip.Addr) (string, bool) {
	if a.Is4() {
		name, ok := h.name4[a.As4()]
		return name, ok
	}
	name, ok := h.name6[a.As16()]
	return name, ok
}

func (h *hostsFile) addrOf(name string) (netip.Addr, bool) {
	a, ok := h.addr4[asciiLower(name)]
	if !ok {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(a), true
}

// servicesFile is /etc/services as glibc's files source reads it: lines of
// "name port/proto aliases...", the first matching line wins; getservbyname
// matches the name or an alias exactly (with case), getservbyport the port.
type servicesFile struct {
	names map[portProto]string
	ports map[nameProto]uint16
}

type portProto struct {
	port  uint16
	proto string
}

type nameProto struct {
	name  string
	proto string
}

func parseServices(data []byte) *servicesFile {
	s := &servicesFile{names: map[portProto]string{}, ports: map[nameProto]uint16{}}
	var fields []string
	for line := range lines(data) {
		fields = cFields(fields[:0], uncomment(line))
		if len(fields) < 2 {
			continue
		}
		num, proto, ok := strings.Cut(fields[1], "/")
		if !ok || proto == "" {
			continue
		}
		port, ok := servicePort(num)
		if !ok {
			continue
		}
		if k := (portProto{port, proto}); !hasKey(s.names, k) {
			s.names[k] = fields[0]
		}
		for i, name := range fields {
			if i == 1 {
				continue
			}
			if k := (nameProto{name, proto}); !hasKey(s.ports, k) {
				s.ports[k] = port
			}
		}
	}
	return s
}

// servicePort reads the port of an /etc/services line as glibc does, with
// strtoul and a cast to 16 bits.
func servicePort(s string) (uint16, bool) {
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			v = math.MaxUint64 // strtoul saturates
			continue
		}
		v = v*10 + d
	}
	return uint16(v), true
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

func (s *servicesFile) nameOf(port uint16, proto string) (string, bool) {
	name, ok := s.names[portProto{port, proto}]
	return name, ok
}

func (s *servicesFile) portOf(name, proto string) (uint16, bool) {
	port, ok := s.ports[nameProto{name, proto}]
	return port, ok
}

// lines yields the lines of data without their line ends.
func lines(data []byte) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		s := string(data)
		for s != "" {
			line, rest, _ := strings.Cut(s, "\n")
			if !yield(line) {
				return
			}
			s = rest
		}
	}
}

// uncomment cuts a line at its first '#'.
func uncomment(line string) string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		return line[:i]
	}
	return line
}

// cFields appends the fields of s separated by C's isspace characters.
func cFields(fields []string, s string) []string {
	for {
		i := 0
		for i < len(s) && cIsSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return fields
		}
		j := i
		for j < len(s) && !cIsSpace(s[j]) {
			j++
		}
		fields = append(fields, s[i:j])
		s = s[j:]
	}
}

// asciiLower lower-cases ASCII letters only, as strcasecmp compares in the C
// locale.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// SystemNames returns the Names of this machine, answering as glibc does:
// host lookups go through the sources of the "hosts:" line of
// /etc/nsswitch.conf in order, with its [STATUS=ACTION] criteria, of which
// "files" (/etc/hosts) and "dns" are known and any other source counts as
// unavailable; without such a line glibc's default, "dns [!UNAVAIL=return]
// files", applies. DNS goes through net.Resolver in pure-Go mode; its
// answers are remembered for the life of the Names. Service lookups read
// /etc/services. HostAddr is gethostbyname: IPv4 only. The files are read
// once, on first use.
func SystemNames() Names {
	return &systemNames{
		hostsPath:    "/etc/hosts",
		servicesPath: "/etc/services",
		nsswitchPath: "/etc/nsswitch.conf",
		resolver:     &net.Resolver{PreferGo: true},
	}
}

// dnsLookups are the DNS queries of the dns source; tests replace them,
// since Go's resolver also answers from the machine's own /etc/hosts.
type dnsLookups interface {
	LookupAddr(ctx context.Context, addr string) ([]string, error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

type systemNames struct {
	hostsPath, servicesPath, nsswitchPath string
	resolver                              dnsLookups

	once     sync.Once
	hosts    *hostsFile // nil if /etc/hosts cannot be read: files is unavailable
	services *servicesFile
	sources  []nssSource

	mu   sync.Mutex
	ptr  map[netip.Addr]dnsAnswer[string]
	addr map[string]dnsAnswer[netip.Addr]
}

type dnsAnswer[T any] struct {
	value  T
	status nssStatus
}

// An nssStatus is the outcome of one source's lookup, as glibc's NSS names
// them.
type nssStatus int

const (
	nssSuccess nssStatus = iota
	nssNotFound
	nssUnavail
	nssTryAgain
	numNSSStatus
)

var nssStatusNames = [numNSSStatus]string{"success", "notfound", "unavail", "tryagain"}

// An nssSource is one source of a "hosts:" line and whether each status
// ends the lookup there.
type nssSource struct {
	name string
	stop [numNSSStatus]bool
}

func (n *systemNames) load() {
	n.once.Do(func() {
		if data, err := os.ReadFile(n.hostsPath); err == nil {
			n.hosts = parseHosts(data)
		}
		data, _ := os.ReadFile(n.servicesPath)
		n.services = parseServices(data)
		conf, err := os.ReadFile(n.nsswitchPath)
		if err == nil {
			n.sources = parseNSSwitch(conf, "hosts")
		}
		if n.sources == nil {
			n.sources = parseNSSSources("dns [!UNAVAIL=return] files")
		}
		n.ptr = map[netip.Addr]dnsAnswer[string]{}
		n.addr = map[string]dnsAnswer[netip.Addr]{}
	})
}

// parseNSSwitch returns the sources of database db in an nsswitch.conf, or
// nil if it has no such line.
func parseNSSwitch(conf []byte, db string) []nssSource {
	for line := range lines(conf) {
		line = strings.TrimLeft(uncomment(line), " \t")
		name, rest, ok := strings.Cut(line, ":")
		if ok && strings.TrimRight(name, " \t") == db {
			return parseNSSSources(rest)
		}
	}
	return nil
}

// parseNSSSources reads "files [NOTFOUND=return] dns": sources, each with
// the criteria in brackets after it (a "!" applies the action to every
// other status). A source returns on success and continues otherwise unless
// told.
func parseNSSSources(s string) []nssSource {
	var sources []nssSource
	for {
		s = strings.TrimLeft(s, " \t\r")
		if s == "" {
			return sources
		}
		if s[0] == '[' {
			crit, rest, _ := strings.Cut(s[1:], "]")
			s = rest
			if len(sources) == 0 {
				continue
			}
			src := &sources[len(sources)-1]
			for _, item := range strings.Fields(crit) {
				status, action, ok := strings.Cut(strings.ToLower(item), "=")
				if !ok {
					continue
				}
				not := strings.HasPrefix(status, "!")
				status = strings.TrimPrefix(status, "!")
				ret := action == "return"
				for i, name := range nssStatusNames {
					if (name == status) != not {
						src.stop[i] = ret
					}
				}
			}
			continue
		}
		end := strings.IndexAny(s, " \t\r[")
		if end < 0 {
			end = len(s)
		}
		sources = append(sources, nssSource{name: s[:end], stop: [numNSSStatus]bool{nssSuccess: true}})
		s = s[end:]
	}
}

func (n *systemNames) HostAddr(name string) (netip.Addr, bool) {
	if a, ok, numeric := digitsDotsAddr(name); numeric {
		return a, ok
	}
	return nssLookup(n,
		func(h *hostsFile) (netip.Addr, bool) { return h.addrOf(name) },
		func() (netip.Addr, nssStatus) { return n.dnsAddr(name) })
}

func (n *systemNames) AddrHost(addr netip.Addr) (string, bool) {
	if unspecifiedIPv6(addr) {
		return "", false
	}
	return nssLookup(n,
		func(h *hostsFile) (string, bool) { return h.nameOf(addr) },
		func() (string, nssStatus) { return n.dnsName(addr) })
}

// nssLookup asks the sources of the "hosts:" line in turn, as glibc's NSS
// does: the first success answers, and a status the line says to return on
// ends the lookup.
func nssLookup[T any](n *systemNames, files func(*hostsFile) (T, bool), dns func() (T, nssStatus)) (T, bool) {
	n.load()
	var none T
	for _, src := range n.sources {
		v, status := none, nssUnavail
		switch src.name {
		case "files":
			if n.hosts != nil {
				var ok bool
				v, ok = files(n.hosts)
				status = found(ok)
			}
		case "dns":
			v, status = dns()
		}
		if status == nssSuccess {
			return v, true
		}
		if src.stop[status] {
			break
		}
	}
	return none, false
}

func (n *systemNames) ServicePort(name, proto string) (uint16, bool) {
	n.load()
	return n.services.portOf(name, proto)
}

func (n *systemNames) PortService(port uint16, proto string) (string, bool) {
	n.load()
	return n.services.nameOf(port, proto)
}

func found(ok bool) nssStatus {
	if ok {
		return nssSuccess
	}
	return nssNotFound
}

// dnsName is the PTR lookup of addr; glibc's h_name carries no trailing dot.
func (n *systemNames) dnsName(addr netip.Addr) (string, nssStatus) {
	n.mu.Lock()
	ans, ok := n.ptr[addr]
	n.mu.Unlock()
	if ok {
		return ans.value, ans.status
	}
	names, err := n.resolver.LookupAddr(context.Background(), addr.String())
	ans.status = dnsStatus(err)
	if ans.status == nssSuccess {
		if len(names) == 0 {
			ans.status = nssNotFound
		} else {
			ans.value = strings.TrimSuffix(names[0], ".")
		}
	}
	n.mu.Lock()
	n.ptr[addr] = ans
	n.mu.Unlock()
	return ans.value, ans.status
}

// dnsAddr is the A lookup of name: its first IPv4 address.
func (n *systemNames) dnsAddr(name string) (netip.Addr, nssStatus) {
	n.mu.Lock()
	ans, ok := n.addr[name]
	n.mu.Unlock()
	if ok {
		return ans.value, ans.status
	}
	addrs, err := n.resolver.LookupNetIP(context.Background(), "ip4", name)
	ans.status = dnsStatus(err)
	if ans.status == nssSuccess {
		if len(addrs) == 0 {
			ans.status = nssNotFound
		} else {
			ans.value = addrs[0].Unmap()
		}
	}
	n.mu.Lock()
	n.addr[name] = ans
	n.mu.Unlock()
	return ans.value, ans.status
}

// dnsStatus maps a resolver error onto NSS as glibc's dns source reports:
// no such name is "notfound"; a server that cannot be reached or refuses
// (ECONNREFUSED) is "unavail", so that a lookup goes on past it even under
// glibc's default "[!UNAVAIL=return]"; a timeout or a failing server is
// "tryagain".
func dnsStatus(err error) nssStatus {
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return nssSuccess
	case !errors.As(err, &dnsErr):
		return nssUnavail
	case dnsErr.IsNotFound:
		return nssNotFound
	case strings.HasPrefix(dnsErr.Err, "dial ") || strings.Contains(dnsErr.Err, "connection refused"):
		return nssUnavail
	case dnsErr.IsTimeout || dnsErr.IsTemporary:
		return nssTryAgain
	}
	return nssUnavail
}
