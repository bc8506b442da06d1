//go:build linux

package ipvs

import (
	"errors"
	"iter"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

const testFamilyID = 0x24

// testClient makes a Client on a fake kernel that answers the family lookup
// and hands every IPVS request to fn, which returns the replies (nil means a
// plain ack) or an errno.
func testClient(t *testing.T, fn func(req netlink.Message) ([]netlink.Message, error)) *Client {
	t.Helper()
	c, err := NewFromConn(netlink.NewConn(&testSocket{fn: fn}, 1))
	if err != nil {
		t.Fatalf("NewFromConn: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testSocket is a netlink.Socket that, like the kernel, queues every ack as
// a datagram of its own (nltest would join them in one).
type testSocket struct {
	fn        func(req netlink.Message) ([]netlink.Message, error)
	datagrams [][]netlink.Message
}

func (s *testSocket) Close() error { return nil }

func (s *testSocket) Send(m netlink.Message) error { return s.SendMessages([]netlink.Message{m}) }

func (s *testSocket) SendMessages(reqs []netlink.Message) error {
	for _, req := range reqs {
		if req.Header.Type == unix.GENL_ID_CTRL {
			s.datagrams = append(s.datagrams, []netlink.Message{familyReply(req)})
			continue
		}
		if req.Header.Type < 0x10 {
			// A control message (NLMSG_NOOP): the kernel only acks it.
			s.datagrams = append(s.datagrams, []netlink.Message{ack(req)})
			continue
		}
		replies, err := s.fn(req)
		if err == errSkipAck {
			continue
		}
		if err != nil {
			var errno unix.Errno
			if !errors.As(err, &errno) {
				return err
			}
			msgs, _ := nltest.Error(int(errno), []netlink.Message{req})
			s.datagrams = append(s.datagrams, msgs)
			continue
		}
		if replies == nil {
			if req.Header.Flags&netlink.Acknowledge == 0 {
				// netlink_rcv_skb answers a success only when asked.
				continue
			}
			replies = []netlink.Message{ack(req)}
		}
		for i := range replies {
			replies[i].Header.Sequence = req.Header.Sequence
			replies[i].Header.PID = req.Header.PID
		}
		s.datagrams = append(s.datagrams, replies)
	}
	return nil
}

func (s *testSocket) Receive() ([]netlink.Message, error) {
	if len(s.datagrams) == 0 {
		// A real socket would block for ever; fail the test instead.
		return nil, errors.New("testSocket: receive with nothing queued")
	}
	d := s.datagrams[0]
	s.datagrams = s.datagrams[1:]
	return d, nil
}

func (s *testSocket) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		msgs, err := s.Receive()
		if err != nil {
			yield(netlink.Message{}, err)
			return
		}
		for _, m := range msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// errSkipAck makes the fake kernel answer nothing, as netlink_rcv_skb does
// when a handler returns EINTR.
var errSkipAck = errors.New("no ack")

func familyReply(req netlink.Message) netlink.Message {
	ae := netlink.NewAttributeEncoder()
	ae.Uint16(unix.CTRL_ATTR_FAMILY_ID, testFamilyID)
	ae.String(unix.CTRL_ATTR_FAMILY_NAME, "IPVS")
	ae.Uint32(unix.CTRL_ATTR_VERSION, 1)
	b, _ := ae.Encode()
	return netlink.Message{
		Header: netlink.Header{Type: unix.GENL_ID_CTRL, Sequence: req.Header.Sequence, PID: req.Header.PID},
		Data:   append([]byte{unix.CTRL_CMD_NEWFAMILY, 2, 0, 0}, b...),
	}
}

func ack(req netlink.Message) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: netlink.Error, Sequence: req.Header.Sequence, PID: req.Header.PID},
		Data:   make([]byte, 4+16),
	}
}

// reply builds an IPVS reply message carrying attrs.
func reply(cmd Command, flags netlink.HeaderFlags, attrs []byte) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: testFamilyID, Flags: flags},
		Data:   append([]byte{uint8(cmd), 1, 0, 0}, attrs...),
	}
}

func TestLinuxClientCreateServiceMatchesIpvsadmBytes(t *testing.T) {
	// The NEW_SERVICE payload ipvsadm 1.31 sends for
	// -A -t 10.0.0.1:80 -s rr -p 600 -M 255.255.255.0 --pe sip -b flag-1,
	// written out by hand from the reference (§8.4), not by our encoder.
	want := []byte{
		0x01, 0x01, 0x00, 0x00,
		0x5c, 0x00, 0x01, 0x80,
		0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00,
		0x07, 0x00, 0x06, 0x00, 0x72, 0x72, 0x00, 0x00,
		0x08, 0x00, 0x0b, 0x00, 0x73, 0x69, 0x70, 0x00,
		0x0c, 0x00, 0x07, 0x00, 0x09, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
		0x08, 0x00, 0x08, 0x00, 0x58, 0x02, 0x00, 0x00,
		0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0x00,
	}
	var got netlink.Message
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		got = req
		return nil, nil
	})
	err := c.CreateService(Service{
		Protocol: TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80,
		Scheduler: "rr", Flags: FlagPersistent | FlagSched1, Timeout: 600,
		Netmask: 0xffffff00, PersistenceEngine: "sip",
	})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	if diff := cmp.Diff(want, got.Data); diff != "" {
		t.Errorf("request payload (-want +got):\n%s", diff)
	}
	// 1.31 asks for an acknowledgement of every request; writes here do
	// not: the kernel answers a failure without being asked, and the no-op
	// that ends every window is acknowledged (writer_linux.go).
	if want, got := netlink.Request, got.Header.Flags; want != got {
		t.Errorf("flags: want %v, got %v", want, got)
	}
	if got.Header.Type != testFamilyID {
		t.Errorf("type: want family %#x, got %#x", testFamilyID, got.Header.Type)
	}
}

func TestLinuxClientCreateDestinationMatchesIpvsadmBytes(t *testing.T) {
	// The DEST nest of -a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 3 -x 100
	// -y 10, after the reference (§8.4): 0x60 bytes, port 1f 90.
	wantDest := []byte{
		0x60, 0x00, 0x02, 0x80,
		0x06, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x01, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x06, 0x00, 0x02, 0x00, 0x1f, 0x90, 0x00, 0x00,
		0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00,
		0x05, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x06, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x06, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x05, 0x00, 0x64, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x06, 0x00, 0x0a, 0x00, 0x00, 0x00,
	}
	var got netlink.Message
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		got = req
		return nil, nil
	})
	svc := Service{Protocol: TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80}
	err := c.CreateDestination(svc, Destination{
		Address: netip.MustParseAddr("192.168.0.1"), Port: 8080, Forwarding: Masquerade,
		Weight: 3, UpperThreshold: 100, LowerThreshold: 10,
	})
	if err != nil {
		t.Fatalf("CreateDestination: %v", err)
	}
	if len(got.Data) < len(wantDest) {
		t.Fatalf("request of %d bytes is too short", len(got.Data))
	}
	if diff := cmp.Diff(wantDest, got.Data[len(got.Data)-len(wantDest):]); diff != "" {
		t.Errorf("DEST nest (-want +got):\n%s", diff)
	}
}

func TestLinuxClientDaemonPortInHostOrder(t *testing.T) {
	// --start-daemon backup --mcast-interface eth1 --syncid 9 --sync-maxlen
	// 1400 --mcast-group ff02::1234 --mcast-port 8849 --mcast-ttl 2 (§8.4).
	wantAttrs := [][]byte{
		{0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00},
		{0x09, 0x00, 0x02, 0x00, 'e', 't', 'h', '1', 0x00, 0x00, 0x00, 0x00},
		{0x08, 0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00},
		{0x06, 0x00, 0x04, 0x00, 0x78, 0x05, 0x00, 0x00},
		{0x06, 0x00, 0x07, 0x00, 0x91, 0x22, 0x00, 0x00},
		{0x05, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00},
		{0x14, 0x00, 0x06, 0x00, 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34},
	}
	var want []byte
	for _, a := range wantAttrs {
		want = append(want, a...)
	}
	var got []byte
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		got = req.Data[4+4:] // genl header, DAEMON nest header
		return nil, nil
	})
	err := c.StartDaemon(Daemon{
		State: Backup, Interface: "eth1", SyncID: 9, MaxLength: 1400,
		Group: netip.MustParseAddr("ff02::1234"), Port: 8849, TTL: 2,
	})
	if err != nil {
		t.Fatalf("StartDaemon: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DAEMON nest (-want +got):\n%s", diff)
	}
}

func TestLinuxClientIPv6NetmaskIsAPrefixLength(t *testing.T) {
	var netmask []byte
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		ad, err := netlink.NewAttributeDecoder(req.Data[4:])
		if err != nil {
			return nil, err
		}
		for ad.Next() {
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					if nad.Type() == svcNetmask {
						netmask = nad.Bytes()
					}
				}
				return nil
			})
		}
		return nil, ad.Err()
	})
	err := c.CreateService(Service{Protocol: UDP, Address: netip.MustParseAddr("2001:db8::1"), Port: 53, Scheduler: "rr"})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	// ipvsadm sends 128 as 80 00 00 00.
	if diff := cmp.Diff([]byte{0x80, 0, 0, 0}, netmask); diff != "" {
		t.Errorf("netmask (-want +got):\n%s", diff)
	}
}

func TestLinuxClientRefusesInvalidBeforeSending(t *testing.T) {
	v4 := netip.MustParseAddr("10.0.0.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name string
		op   Op
	}{
		{"service without address or mark", Op{Command: CmdNewService, Service: Service{Protocol: TCP, Scheduler: "rr"}}},
		{"port on a firewall-mark service", Op{Command: CmdNewService, Service: Service{FirewallMark: 1, Port: 80}}},
		{"address on a firewall-mark service", Op{Command: CmdNewService, Service: Service{FirewallMark: 1, Address: v4}}},
		{"unknown protocol", Op{Command: CmdNewService, Service: Service{Protocol: 1, Address: v4, Port: 1}}},
		{"IPv6 netmask over 128", Op{Command: CmdNewService, Service: Service{Protocol: TCP, Address: v6, Port: 1, Netmask: 129}}},
		{"family against address", Op{Command: CmdNewService, Service: Service{Family: IPv6, Protocol: TCP, Address: v4, Port: 1}}},
		{"odd family", Op{Command: CmdNewService, Service: Service{Family: 7, FirewallMark: 1}}},
		{"long scheduler name", Op{Command: CmdNewService, Service: Service{Protocol: TCP, Address: v4, Port: 1, Scheduler: "abcdefghijklmnop"}}},
		{"destination without address", Op{Command: CmdNewDestination, Service: Service{FirewallMark: 1}, Destination: Destination{Port: 80}}},
		{"negative weight", Op{Command: CmdNewDestination, Service: Service{FirewallMark: 1}, Destination: Destination{Address: v4, Weight: -1}}},
		{"unknown forwarding", Op{Command: CmdSetDestination, Service: Service{FirewallMark: 1}, Destination: Destination{Address: v4, Forwarding: 9}}},
		{"daemon without state", Op{Command: CmdNewDaemon, Daemon: Daemon{Interface: "eth0"}}},
		{"unicast daemon group", Op{Command: CmdNewDaemon, Daemon: Daemon{State: Master, Group: v4}}},
		{"negative timeout", Op{Command: CmdSetConfig, Timeouts: Timeouts{TCP: -time.Second}}},
		{"fractional timeout", Op{Command: CmdSetConfig, Timeouts: Timeouts{UDP: 1500 * time.Millisecond}}},
		{"not a write", Op{Command: CmdGetService}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := 0
			c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
				sent++
				return nil, nil
			})
			// A valid op first: nothing of the batch may be sent.
			ops := []Op{{Command: CmdFlush}, tt.op}
			err := c.Apply(ops, func(int, error) bool { return true })
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Apply: want ErrInvalid, got %v", err)
			}
			if sent != 0 {
				t.Errorf("%d requests sent, want none", sent)
			}
		})
	}
}

func TestLinuxClientErrorsKeepTheErrno(t *testing.T) {
	tests := []struct {
		errno                 unix.Errno
		notExist, exist, perm bool
	}{
		{errno: unix.ESRCH, notExist: true},
		{errno: unix.ENOENT, notExist: true},
		{errno: unix.EEXIST, exist: true},
		{errno: unix.EPERM, perm: true},
		{errno: unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.errno.Error(), func(t *testing.T) {
			c := testClient(t, func(netlink.Message) ([]netlink.Message, error) { return nil, tt.errno })
			err := c.DeleteService(Service{FirewallMark: 3})
			var errno unix.Errno
			if !errors.As(err, &errno) || errno != tt.errno {
				t.Fatalf("want errno %v reachable, got %v", tt.errno, err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Command != CmdDelService {
				t.Errorf("want *Error of del-service, got %#v", err)
			}
			got := [3]bool{errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrExist), errors.Is(err, os.ErrPermission)}
			if want := [3]bool{tt.notExist, tt.exist, tt.perm}; want != got {
				t.Errorf("errors.Is NotExist/Exist/Permission: want %v, got %v", want, got)
			}
		})
	}
}

func TestLinuxClientApplyMatchesEachAckToItsOp(t *testing.T) {
	// The kernel answers each request of a batch in turn and goes on after
	// a failure; every third op fails here.
	var seen int
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		seen++
		if seen%3 == 0 {
			return nil, unix.EEXIST
		}
		return nil, nil
	})
	ops := make([]Op, 300) // more than one window
	for i := range ops {
		ops[i] = Op{Command: CmdNewService, Service: Service{FirewallMark: uint32(i + 1)}}
	}
	var got []int
	err := c.Apply(ops, func(i int, err error) bool {
		if err != nil {
			if !errors.Is(err, os.ErrExist) {
				t.Errorf("op %d: want EEXIST, got %v", i, err)
			}
			got = append(got, i)
		}
		return true
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	var want []int
	for i := 2; i < len(ops); i += 3 {
		want = append(want, i)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failed ops (-want +got):\n%s", diff)
	}
}

func TestLinuxClientApplyStopsAfterTheWindowWhenAsked(t *testing.T) {
	var sent int
	c := testClient(t, func(netlink.Message) ([]netlink.Message, error) {
		sent++
		return nil, unix.ENOENT
	})
	ops := make([]Op, 3*batchWindow)
	for i := range ops {
		ops[i] = Op{Command: CmdDelService, Service: Service{FirewallMark: uint32(i + 1)}}
	}
	reported := 0
	if err := c.Apply(ops, func(int, error) bool { reported++; return false }); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if sent != batchWindow || reported != batchWindow {
		t.Errorf("sent %d, reported %d; want one window of %d", sent, reported, batchWindow)
	}
}

// serviceAttrs is a test-only encoder of a kernel service reply, written
// apart from the client's encoder.
func serviceAttrs(t *testing.T, fn func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	ae.Nested(attrService, func(nae *netlink.AttributeEncoder) error {
		fn(nae)
		return nil
	})
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fullIPv4Service(ae *netlink.AttributeEncoder) {
	ae.Uint16(svcAF, 2)
	ae.Uint16(svcProtocol, 17)
	ae.Bytes(svcAddr, []byte{192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	ae.Bytes(svcPort, []byte{0x00, 0x35})
	ae.String(svcSchedName, "wlc")
	ae.Bytes(svcFlags, []byte{0x07, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	ae.Uint32(svcTimeout, 360)
	ae.Bytes(svcNetmask, []byte{255, 255, 255, 0})
}

func stats(all64 bool, base uint64) func(*netlink.AttributeEncoder) error {
	return func(ae *netlink.AttributeEncoder) error {
		for typ := uint16(1); typ <= 10; typ++ {
			if all64 || typ == statsInBytes || typ == statsOutBytes {
				ae.Uint64(typ, base+uint64(typ))
			} else {
				ae.Uint32(typ, uint32(base+uint64(typ)))
			}
		}
		ae.Bytes(11, nil) // IPVS_STATS_ATTR_PAD
		return nil
	}
}

func TestLinuxClientServicesDecodesAndPrefersStats64(t *testing.T) {
	tests := []struct {
		name  string
		attrs func(ae *netlink.AttributeEncoder)
		stats Stats
	}{
		{
			name: "32 and 64 bit",
			attrs: func(ae *netlink.AttributeEncoder) {
				fullIPv4Service(ae)
				ae.Nested(svcStats, stats(false, 0))
				ae.Nested(svcStats64, stats(true, 1<<40))
			},
			stats: Stats{1<<40 + 1, 1<<40 + 2, 1<<40 + 3, 1<<40 + 4, 1<<40 + 5, 1<<40 + 6, 1<<40 + 7, 1<<40 + 8, 1<<40 + 9, 1<<40 + 10},
		},
		{
			name: "32 bit only, an old kernel",
			attrs: func(ae *netlink.AttributeEncoder) {
				fullIPv4Service(ae)
				ae.Nested(svcStats, stats(false, 100))
			},
			stats: Stats{101, 102, 103, 104, 105, 106, 107, 108, 109, 110},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
				return []netlink.Message{
					reply(CmdNewService, netlink.Multi, serviceAttrs(t, tt.attrs)),
					{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi}, Data: make([]byte, 4)},
				}, nil
			})
			got, err := c.Services()
			if err != nil {
				t.Fatalf("Services: %v", err)
			}
			want := []ServiceExtended{{
				Service: Service{
					Family: IPv4, Protocol: UDP, Address: netip.MustParseAddr("192.0.2.1"), Port: 53,
					Scheduler: "wlc", Flags: FlagPersistent | FlagHashed | FlagOnePacket, Timeout: 360, Netmask: 0xffffff00,
				},
				Stats: tt.stats,
			}}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLinuxClientServicesEmptyTable(t *testing.T) {
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		return []netlink.Message{{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi}, Data: make([]byte, 4)}}, nil
	})
	got, err := c.Services()
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	if got == nil || len(got) != 0 {
		t.Errorf("want an empty, non-nil slice, got %#v", got)
	}
}

func TestLinuxClientRejectsMalformedReplies(t *testing.T) {
	without := func(skip uint16) func(ae *netlink.AttributeEncoder) {
		return func(ae *netlink.AttributeEncoder) {
			full := netlink.NewAttributeEncoder()
			fullIPv4Service(full)
			b, _ := full.Encode()
			ad, _ := netlink.NewAttributeDecoder(b)
			for ad.Next() {
				if ad.Type() != skip {
					ae.Bytes(ad.Type(), ad.Bytes())
				}
			}
		}
	}
	tests := []struct {
		name  string
		attrs []byte
	}{
		{"no AF", serviceAttrs(t, without(svcAF))},
		{"no scheduler", serviceAttrs(t, without(svcSchedName))},
		{"no netmask", serviceAttrs(t, without(svcNetmask))},
		{"no address", serviceAttrs(t, without(svcAddr))},
		{"short address", serviceAttrs(t, func(ae *netlink.AttributeEncoder) {
			fullIPv4Service(ae)
			ae.Uint16(svcAF, 10) // IPv6 with a 16-byte address is fine; make it short:
			ae.Bytes(svcAddr, []byte{1, 2, 3})
		})},
		{"short flags", serviceAttrs(t, func(ae *netlink.AttributeEncoder) {
			fullIPv4Service(ae)
			ae.Bytes(svcFlags, []byte{1, 2, 3, 4})
		})},
		{"short port", serviceAttrs(t, func(ae *netlink.AttributeEncoder) {
			fullIPv4Service(ae)
			ae.Bytes(svcPort, []byte{1})
		})},
		{"short timeout", serviceAttrs(t, func(ae *netlink.AttributeEncoder) {
			fullIPv4Service(ae)
			ae.Bytes(svcTimeout, []byte{1})
		})},
		{"truncated stats", serviceAttrs(t, func(ae *netlink.AttributeEncoder) {
			fullIPv4Service(ae)
			ae.Bytes(svcStats64, []byte{0x0c, 0x00, 0x01, 0x00, 1, 2})
		})},
		{"stats counter of the wrong size", serviceAttrs(t, func(ae *netlink.AttributeEncoder) {
			fullIPv4Service(ae)
			ae.Nested(svcStats64, func(nae *netlink.AttributeEncoder) error {
				nae.Uint16(statsConns, 1)
				return nil
			})
		})},
		{"truncated nest", []byte{0x40, 0x00, 0x01, 0x80, 0x06, 0x00}},
		{"no service", []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
				return []netlink.Message{
					reply(CmdNewService, netlink.Multi, tt.attrs),
					{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi}, Data: make([]byte, 4)},
				}, nil
			})
			_, err := c.Services()
			if !errors.Is(err, ErrMalformedReply) {
				t.Errorf("want ErrMalformedReply, got %v", err)
			}
		})
	}
}

func TestLinuxClientFamilyNotFound(t *testing.T) {
	conn := nltest.Dial(func(reqs []netlink.Message) ([]netlink.Message, error) {
		return nltest.Error(int(unix.ENOENT), reqs)
	})
	_, err := NewFromConn(conn)
	if !errors.Is(err, ErrFamilyNotFound) {
		t.Fatalf("want ErrFamilyNotFound, got %v", err)
	}
}

func TestLinuxClientDestinationDecodesTunnelAndFamily(t *testing.T) {
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		ae := netlink.NewAttributeEncoder()
		ae.Nested(attrDest, func(nae *netlink.AttributeEncoder) error {
			nae.Bytes(destAddr, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})
			nae.Bytes(destPort, []byte{0x00, 0x50})
			nae.Uint32(destFwdMethod, 2|0x100) // higher conn flags are not the method
			nae.Uint32(destWeight, 2147483647)
			nae.Uint8(destTunType, 1)
			nae.Bytes(destTunPort, []byte{0x17, 0xc0})
			nae.Uint16(destTunFlags, 3)
			nae.Uint32(destUThresh, 50)
			nae.Uint32(destLThresh, 5)
			nae.Uint32(destActiveConns, 7)
			nae.Uint32(destInactConns, 8)
			nae.Uint32(destPersistConns, 9)
			nae.Uint16(destAddrFamily, 10)
			return nil
		})
		b, _ := ae.Encode()
		return []netlink.Message{
			reply(CmdNewDestination, netlink.Multi, b),
			{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi}, Data: make([]byte, 4)},
		}, nil
	})
	got, err := c.Destinations(Service{Protocol: TCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80})
	if err != nil {
		t.Fatalf("Destinations: %v", err)
	}
	want := []DestinationExtended{{
		Destination: Destination{
			Family: IPv6, Address: netip.MustParseAddr("2001:db8::2"), Port: 80, Forwarding: Tunnel,
			Weight: 2147483647, UpperThreshold: 50, LowerThreshold: 5,
			TunnelType: GUE, TunnelPort: 6080, TunnelFlags: TunnelChecksum | TunnelRemoteChecksum,
		},
		ActiveConnections: 7, InactiveConnections: 8, PersistentConnections: 9,
	}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
}

func TestLinuxClientInfoAndTimeouts(t *testing.T) {
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		ae := netlink.NewAttributeEncoder()
		switch Command(req.Data[0]) {
		case CmdGetInfo:
			ae.Uint32(infoVersion, 0x010201)
			ae.Uint32(infoConnTabSize, 4096)
			b, _ := ae.Encode()
			return []netlink.Message{reply(CmdSetInfo, 0, b)}, nil
		case CmdGetConfig:
			ae.Uint32(attrTimeoutTCP, 900)
			ae.Uint32(attrTimeoutFin, 120)
			ae.Uint32(attrTimeoutUDP, 300)
			b, _ := ae.Encode()
			return []netlink.Message{reply(CmdSetConfig, 0, b)}, nil
		}
		return nil, unix.EINVAL
	})
	info, err := c.Info()
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if diff := cmp.Diff(Info{Version: 0x010201, ConnectionTableSize: 4096}, info); diff != "" {
		t.Errorf("info (-want +got):\n%s", diff)
	}
	if got := info.Version.String(); got != "1.2.1" {
		t.Errorf("version: want 1.2.1, got %s", got)
	}
	to, err := c.Timeouts()
	if err != nil {
		t.Fatalf("Timeouts: %v", err)
	}
	if diff := cmp.Diff(Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}, to); diff != "" {
		t.Errorf("timeouts (-want +got):\n%s", diff)
	}
}

// TestLinuxClientStopDaemonWithoutAck: the 6.1 kernel sends no ack when it
// stops a sync daemon whose thread had not run yet (the handler's EINTR);
// the daemon is stopped, and the client must not wait for ever.
func TestLinuxClientStopDaemonWithoutAck(t *testing.T) {
	c := testClient(t, func(req netlink.Message) ([]netlink.Message, error) {
		if Command(req.Data[0]) == CmdDelDaemon {
			return nil, errSkipAck
		}
		return nil, unix.EEXIST
	})
	if err := c.StopDaemon(Master); err != nil {
		t.Errorf("StopDaemon: %v", err)
	}
	// The acks that do come still reach their requests.
	var got []error
	ops := []Op{{Command: CmdDelDaemon, Daemon: Daemon{State: Backup}}, {Command: CmdNewService, Service: Service{FirewallMark: 1}}}
	if err := c.Apply(ops, func(_ int, err error) bool { got = append(got, err); return true }); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(got) != 2 || got[0] != nil || !errors.Is(got[1], os.ErrExist) {
		t.Errorf("outcomes: want [nil, EEXIST], got %v", got)
	}
}
