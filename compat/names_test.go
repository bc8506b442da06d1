package compat

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// The expectations of these tests were checked against glibc 2.36: its
// inet_ntop, and gethostbyaddr, gethostbyname, getservbyport and
// getservbyname over these files with "hosts: files" and "services: files".

// TestInetNtop checks the IPv6 text against glibc 2.36's inet_ntop (the
// cases of §5.1 of the reference, and more checked with the C library).
func TestInetNtop(t *testing.T) {
	tests := []struct{ in, want string }{
		{"::", "::"},
		{"::1", "::1"},
		{"::1.2.3.4", "::1.2.3.4"},           // Go prints ::102:304
		{"::ffff:1.2.3.4", "::ffff:1.2.3.4"}, // net.IP prints 1.2.3.4
		{"::ffff:0:0", "::ffff:0.0.0.0"},
		{"::0.0.1.0", "::100"}, // seven zero groups: no IPv4 tail
		{"::fffe:1.2.3.4", "::fffe:102:304"},
		{"0:0:0:0:1:ffff:1.2.3.4", "::1:ffff:102:304"},
		{"1::", "1::"},
		{"2001:db8::10", "2001:db8::10"},
		{"2001:0db8:0000:0000:0000:0000:0000:00aa", "2001:db8::aa"},
		{"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"},
		{"2001:0:0:1:0:0:1:1", "2001::1:0:0:1:1"}, // the first of equal runs
		{"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"},    // no run of two
		{"FFFF:ABCD::", "ffff:abcd::"},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:fff1", "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1"},
	}
	for _, tt := range tests {
		u := inetAddrOf(netip.MustParseAddr(tt.in))
		if got := string(appendInetNtop(nil, ipvs.IPv6, &u)); got != tt.want {
			t.Errorf("inet_ntop(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	u := inetAddrOf(netip.MustParseAddr("192.0.2.1"))
	if got := string(appendInetNtop(nil, ipvs.IPv4, &u)); got != "192.0.2.1" {
		t.Errorf("inet_ntop(IPv4) = %q", got)
	}
	if got := string(appendInetNtop(nil, 99, &u)); got != "(null)" {
		t.Errorf("inet_ntop(family 99) = %q, want (null)", got)
	}
}

func TestAppendAddrPort(t *testing.T) {
	long := "a-very-long-host-name-for-truncation-tests.example.org"
	names := FileNames([]byte("192.0.2.1 host\n2001:db8::1 v6host\n203.0.113.1 "+long+"\n"),
		[]byte("http 80/tcp\ndomain 53/udp\nsctpsvc 80/sctp\nhttps 443/tcp\n"))
	tests := []struct {
		name    string
		af      ipvs.Family
		addr    string
		port    uint16
		proto   ipvs.Protocol
		numeric bool
		want    string
	}{
		{"numeric IPv4", ipvs.IPv4, "192.0.2.1", 80, ipvs.TCP, true, "192.0.2.1:80"},
		{"numeric IPv6", ipvs.IPv6, "2001:db8::1", 80, ipvs.TCP, true, "[2001:db8::1]:80"},
		{"names", ipvs.IPv4, "192.0.2.1", 80, ipvs.TCP, false, "host:http"},
		{"IPv6 name bracketed", ipvs.IPv6, "2001:db8::1", 80, ipvs.TCP, false, "[v6host]:http"},
		{"no names", ipvs.IPv4, "192.0.2.2", 8, ipvs.TCP, false, "192.0.2.2:8"},
		{"port names by protocol", ipvs.IPv4, "192.0.2.1", 53, ipvs.UDP, false, "host:domain"},
		{"no TCP name for a UDP port", ipvs.IPv4, "192.0.2.1", 53, ipvs.TCP, false, "host:53"},
		{"SCTP", ipvs.IPv4, "192.0.2.1", 80, ipvs.SCTP, false, "host:sctpsvc"},
		{"other protocols decimal", ipvs.IPv4, "192.0.2.1", 80, 0, false, "host:80"},
		{"59 bytes cut the port", ipvs.IPv4, "203.0.113.1", 443, ipvs.TCP, false, long + ":http"},
		{"59 bytes exactly", ipvs.IPv4, "203.0.113.1", 80, ipvs.TCP, false, long + ":http"},
		{"unknown family", 7, "192.0.2.1", 80, ipvs.TCP, false, "[(null)]:http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := inetAddrOf(netip.MustParseAddr(tt.addr))
			got := string(appendAddrPort([]byte("x"), tt.af, &u, tt.port, tt.proto, tt.numeric, names))
			if diff := cmp.Diff("x"+tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

const testHosts = `# The hosts file, with glibc's quirks.
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
192.0.2.1	first.example.org First alias1  # a comment
192.0.2.1	second.example.org
192.0.2.2	UPPER.example.org
192.0.2.03	leading-zero.example.org
::ffff:192.0.2.9	mapped.example.org
2001:db8::1	v6.example.org v6alias
2001:db8::2%eth0	zoned.example.org
::		any.example.org
bogus		bogus.example.org
192.0.2.4
	192.0.2.5 indented.example.org
192.0.2.6#comment.example.org
192.0.2.7	alias1
`

const testServices = `# /etc/services
tcpmux		1/tcp				# TCP port service multiplexer
http		80/tcp		www www-http	# WorldWideWeb HTTP
http		80/udp
www-alt		80/tcp
domain		53/udp
Kerberos	88/tcp		krb5
broken		/tcp
noproto		99/
nodigits	x9/tcp
wrap		65617/tcp
`

func TestFileNamesHosts(t *testing.T) {
	n := FileNames([]byte(testHosts), nil)
	hostTests := []struct {
		addr string
		want string
		ok   bool
	}{
		{"127.0.0.1", "localhost", true},
		{"::1", "localhost", true},
		{"192.0.2.1", "first.example.org", true}, // the first line wins
		{"192.0.2.2", "UPPER.example.org", true},
		{"192.0.2.3", "", false}, // inet_pton refuses 03
		{"192.0.2.9", "mapped.example.org", true},
		{"::ffff:192.0.2.9", "mapped.example.org", true},
		{"2001:db8::1", "v6.example.org", true},
		{"2001:db8::2", "", false},
		{"::", "", false},       // glibc's gethostbyaddr refuses ::
		{"192.0.2.4", "", true}, // a line without names has the empty name
		{"192.0.2.5", "indented.example.org", true},
		{"192.0.2.6", "", true},
	}
	for _, tt := range hostTests {
		got, ok := n.AddrHost(netip.MustParseAddr(tt.addr))
		if got != tt.want || ok != tt.ok {
			t.Errorf("AddrHost(%s) = %q, %v; want %q, %v", tt.addr, got, ok, tt.want, tt.ok)
		}
	}
	addrTests := []struct {
		name string
		want string // "" for not found
	}{
		{"first.example.org", "192.0.2.1"},
		{"FIRST.Example.ORG", "192.0.2.1"}, // strcasecmp
		{"first", "192.0.2.1"},             // aliases count
		{"alias1", "192.0.2.1"},            // the first line with it
		{"second.example.org", "192.0.2.1"},
		{"upper.example.org", "192.0.2.2"},
		{"localhost", "127.0.0.1"},
		{"ip6-localhost", "127.0.0.1"}, // ::1 reads as 127.0.0.1 for IPv4
		{"mapped.example.org", "192.0.2.9"},
		{"v6.example.org", ""}, // IPv4 only
		{"1.2.3.4", "1.2.3.4"}, // numbers are addresses, looked up nowhere
		{"1.2.3", "1.2.0.3"},   // with inet_aton
		{"1.2.3.400", ""},
		{"::1", ""},
		{"ab:cd", ""},
		{"nosuch", ""},
		{"", ""},
	}
	for _, tt := range addrTests {
		a, ok := n.HostAddr(tt.name)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("HostAddr(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFileNamesServices(t *testing.T) {
	n := FileNames(nil, []byte(testServices))
	portTests := []struct {
		port  uint16
		proto string
		want  string
	}{
		{80, "tcp", "http"}, // the first line wins
		{80, "udp", "http"},
		{80, "sctp", ""},
		{53, "udp", "domain"},
		{53, "tcp", ""},
		{88, "tcp", "Kerberos"},
		{1, "tcp", "tcpmux"},
		{80, "TCP", ""},
		{80, "", ""},
		{99, "", ""},
		{65617 - 65536, "tcp", "wrap"}, // the port is cut to 16 bits
	}
	for _, tt := range portTests {
		got, _ := n.PortService(tt.port, tt.proto)
		if got != tt.want {
			t.Errorf("PortService(%d, %s) = %q, want %q", tt.port, tt.proto, got, tt.want)
		}
	}
	nameTests := []struct {
		name, proto string
		want        uint16
		ok          bool
	}{
		{"http", "tcp", 80, true},
		{"www", "tcp", 80, true}, // aliases count
		{"www-http", "tcp", 80, true},
		{"www", "udp", 0, false},
		{"www-alt", "tcp", 80, true},
		{"kerberos", "tcp", 0, false}, // with case
		{"krb5", "tcp", 88, true},
		{"domain", "udp", 53, true},
		{"broken", "tcp", 0, false},
		{"nodigits", "tcp", 0, false},
	}
	for _, tt := range nameTests {
		got, ok := n.ServicePort(tt.name, tt.proto)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ServicePort(%s, %s) = %d, %v; want %d, %v", tt.name, tt.proto, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseNSSwitch(t *testing.T) {
	ret := func(statuses ...nssStatus) (r [numNSSStatus]bool) {
		for _, s := range statuses {
			r[s] = true
		}
		return r
	}
	tests := []struct {
		conf string
		want []nssSource
	}{
		{"passwd: files\nhosts:          files dns\n", []nssSource{
			{"files", ret(nssSuccess)}, {"dns", ret(nssSuccess)},
		}},
		{"# hosts: dns\nhosts: files mdns4_minimal [NOTFOUND=return] dns myhostname # comment\n", []nssSource{
			{"files", ret(nssSuccess)}, {"mdns4_minimal", ret(nssSuccess, nssNotFound)}, {"dns", ret(nssSuccess)},
			{"myhostname", ret(nssSuccess)},
		}},
		{"hosts: dns [!UNAVAIL=return] files\n", []nssSource{
			{"dns", ret(nssSuccess, nssNotFound, nssTryAgain)}, {"files", ret(nssSuccess)},
		}},
		{"hosts: files [SUCCESS=continue tryagain=RETURN]dns\n", []nssSource{
			{"files", ret(nssTryAgain)}, {"dns", ret(nssSuccess)},
		}},
		{"networks: files\n", nil},
	}
	for _, tt := range tests {
		got := parseNSSwitch([]byte(tt.conf), "hosts")
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(nssSource{})); diff != "" {
			t.Errorf("parseNSSwitch(%q) (-want +got):\n%s", tt.conf, diff)
		}
	}
}

// systemNamesIn is SystemNames reading its files from dir, and DNS from a
// server that does not exist (nothing listens on the discard port of the
// loopback), so that a DNS lookup is "unavailable".
func systemNamesIn(t *testing.T, hosts, nsswitch string) *systemNames {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	n := SystemNames().(*systemNames)
	n.hostsPath = write("hosts", hosts)
	n.servicesPath = write("services", testServices)
	n.nsswitchPath = filepath.Join(dir, "nsswitch.conf")
	if nsswitch != "" {
		write("nsswitch.conf", nsswitch)
	}
	n.resolver = unreachableDNS{}
	return n
}

func TestSystemNames(t *testing.T) {
	n := systemNamesIn(t, testHosts, "hosts: files dns\n")
	if got, ok := n.AddrHost(netip.MustParseAddr("192.0.2.1")); got != "first.example.org" || !ok {
		t.Errorf("AddrHost = %q, %v", got, ok)
	}
	if got, ok := n.HostAddr("alias1"); got != netip.MustParseAddr("192.0.2.1") || !ok {
		t.Errorf("HostAddr = %v, %v", got, ok)
	}
	if got, ok := n.PortService(80, "tcp"); got != "http" || !ok {
		t.Errorf("PortService = %q, %v", got, ok)
	}
	if got, ok := n.ServicePort("krb5", "tcp"); got != 88 || !ok {
		t.Errorf("ServicePort = %d, %v", got, ok)
	}
	// Not in the file, and DNS cannot answer.
	if got, ok := n.AddrHost(netip.MustParseAddr("192.0.2.200")); ok {
		t.Errorf("AddrHost(unknown) = %q, true", got)
	}
	if got, ok := n.HostAddr("nosuch.example.org"); ok {
		t.Errorf("HostAddr(unknown) = %v, true", got)
	}
}

// TestSystemNamesSources checks the order and criteria of nsswitch.conf:
// a source that is not there, or not known, is unavailable and skipped.
func TestSystemNamesSources(t *testing.T) {
	tests := []struct {
		name     string
		nsswitch string
		found    bool
	}{
		{"files", "hosts: files\n", true},
		{"dns first, then files", "hosts: dns files\n", true},
		{"glibc's default without the file", "", true},
		{"glibc's default without a hosts line", "passwd: files\n", true},
		{"dns only", "hosts: dns\n", false},
		{"unknown sources", "hosts: mymachines resolve [!UNAVAIL=return] files\n", true},
		{"unavailable dns returns", "hosts: dns [UNAVAIL=return] files\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := systemNamesIn(t, testHosts, tt.nsswitch)
			got, ok := n.AddrHost(netip.MustParseAddr("2001:db8::1"))
			if ok != tt.found || ok && got != "v6.example.org" {
				t.Errorf("AddrHost = %q, %v; want found %v", got, ok, tt.found)
			}
		})
	}
	t.Run("files [NOTFOUND=return]", func(t *testing.T) {
		n := systemNamesIn(t, testHosts, "hosts: files [NOTFOUND=return] dns\n")
		if _, ok := n.HostAddr("nosuch"); ok {
			t.Error("found")
		}
	})
	t.Run("no hosts file", func(t *testing.T) {
		n := systemNamesIn(t, "", "hosts: files\n")
		n.hostsPath = filepath.Join(t.TempDir(), "none")
		if _, ok := n.AddrHost(netip.MustParseAddr("127.0.0.1")); ok {
			t.Error("found")
		}
	})
}

func TestDNSStatus(t *testing.T) {
	tests := []struct {
		err  error
		want nssStatus
	}{
		{nil, nssSuccess},
		{&net.DNSError{Err: "no such host", IsNotFound: true}, nssNotFound},
		{&net.DNSError{Err: "i/o timeout", IsTimeout: true}, nssTryAgain},
		{&net.DNSError{Err: "server misbehaving", IsTemporary: true}, nssTryAgain},
		{&net.DNSError{Err: "read udp 127.0.0.1:1->127.0.0.1:53: read: connection refused", IsTemporary: true}, nssUnavail},
		{&net.DNSError{Err: "dial udp: network is unreachable", IsTemporary: true}, nssUnavail},
		{os.ErrNotExist, nssUnavail},
	}
	for _, tt := range tests {
		if got := dnsStatus(tt.err); got != tt.want {
			t.Errorf("dnsStatus(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// unreachableDNS answers every query as a resolver that cannot reach its
// server does.
type unreachableDNS struct{}

func (unreachableDNS) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return nil, &net.DNSError{Err: "dial udp 127.0.0.1:53: connect: connection refused", Name: addr}
}

func (unreachableDNS) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return nil, &net.DNSError{Err: "dial udp 127.0.0.1:53: connect: connection refused", Name: host}
}
