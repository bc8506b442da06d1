package ipvsmsg

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// The bytes below are written out by hand from ip_vs.h, not printed by
// the encoder: little-endian hosts (amd64, the VM's), network order where
// the kernel wants it (ports, the netmask).

var wantService = []byte{
	104, 0, 0, 0, // nlmsg_len
	0, 0, // nlmsg_type: FamilyPlaceholder
	1, 0, // NLM_F_REQUEST: no ack asked for
	7, 0, 0, 0, // seq
	0, 0, 0, 0, // pid
	1, 1, 0, 0, // IPVS_CMD_NEW_SERVICE, version 1
	84, 0, 1, 0x80, // IPVS_CMD_ATTR_SERVICE, nested
	6, 0, 1, 0, 2, 0, 0, 0, // AF_INET
	6, 0, 2, 0, 6, 0, 0, 0, // IPPROTO_TCP
	20, 0, 3, 0, 10, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 10.1.0.1
	6, 0, 4, 0, 0, 80, 0, 0, // port 80, big-endian
	7, 0, 6, 0, 'r', 'r', 0, 0, // "rr\0"
	12, 0, 7, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, // flags 0, mask ~0
	8, 0, 8, 0, 0, 0, 0, 0, // timeout 0
	8, 0, 9, 0, 0xff, 0xff, 0xff, 0xff, // netmask 255.255.255.255
}

var wantDest = []byte{
	140, 0, 0, 0,
	0, 0,
	1, 0, // NLM_F_REQUEST
	8, 0, 0, 0,
	0, 0, 0, 0,
	5, 1, 0, 0, // IPVS_CMD_NEW_DEST, version 1
	48, 0, 1, 0x80, // IPVS_CMD_ATTR_SERVICE, nested: the key only
	6, 0, 1, 0, 2, 0, 0, 0,
	6, 0, 2, 0, 6, 0, 0, 0,
	20, 0, 3, 0, 10, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	6, 0, 4, 0, 0, 80, 0, 0,
	72, 0, 2, 0x80, // IPVS_CMD_ATTR_DEST, nested
	20, 0, 1, 0, 10, 128, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 10.128.0.1
	6, 0, 2, 0, 0x1f, 0x90, 0, 0, // port 8080, big-endian
	8, 0, 3, 0, 0, 0, 0, 0, // IP_VS_CONN_F_MASQ
	8, 0, 4, 0, 1, 0, 0, 0, // weight 1
	8, 0, 5, 0, 0, 0, 0, 0, // upper threshold
	8, 0, 6, 0, 0, 0, 0, 0, // lower threshold
	6, 0, 11, 0, 2, 0, 0, 0, // IPVS_DEST_ATTR_ADDR_FAMILY AF_INET
}

func TestAppendNewServiceBytes(t *testing.T) {
	s := ruleset.Set{Services: 1, DestsPerService: 1}
	if got := AppendNewService(nil, 7, s.Service(0)); !bytes.Equal(got, wantService) {
		t.Errorf("NEW_SERVICE\n got % x\nwant % x", got, wantService)
	}
}

func TestAppendNewDestBytes(t *testing.T) {
	s := ruleset.Set{Services: 1, DestsPerService: 1}
	if got := AppendNewDest(nil, 8, s.Service(0), s.Destination(0, 0)); !bytes.Equal(got, wantDest) {
		t.Errorf("NEW_DEST\n got % x\nwant % x", got, wantDest)
	}
}

func TestAppendRestoreIsTheRestoreInOrder(t *testing.T) {
	s := ruleset.Set{Services: 1, DestsPerService: 1}
	b, next := AppendRestore(nil, s, 7)
	if want := append(append([]byte{}, wantService...), wantDest...); !bytes.Equal(b, want) {
		t.Errorf("restore\n got % x\nwant % x", b, want)
	}
	if next != 9 {
		t.Errorf("next sequence number %d, want 9", next)
	}

	big := ruleset.Set{Services: 100, DestsPerService: 100}
	b, _ = AppendRestore(nil, big, 1)
	lens, err := Split(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(lens) != big.Rules() {
		t.Errorf("%d messages, want one per rule, %d", len(lens), big.Rules())
	}
}

func TestSetFamilyPatchesEveryMessage(t *testing.T) {
	s := ruleset.Set{Services: 3, DestsPerService: 2}
	b, _ := AppendRestore(nil, s, 1)
	n, err := SetFamily(b, 0x2a)
	if err != nil || n != s.Rules() {
		t.Fatalf("SetFamily = %d, %v; want %d messages", n, err, s.Rules())
	}
	lens, _ := Split(b)
	off := 0
	for i, l := range lens {
		if b[off+4] != 0x2a || b[off+5] != 0 {
			t.Errorf("message %d: type % x", i, b[off+4:off+6])
		}
		off += l
	}
	if _, err := SetFamily(b[:len(b)-1], 0x2a); err == nil {
		t.Error("SetFamily of a truncated buffer: no error")
	}
}

// withFlags is msg with its nlmsg_flags set to flags.
func withFlags(msg []byte, flags byte) []byte {
	m := bytes.Clone(msg)
	m[6], m[7] = flags, 0
	return m
}

func TestRequestAcksAsksForAnAckOfEveryRequest(t *testing.T) {
	s := ruleset.Set{Services: 1, DestsPerService: 1}
	b, _ := AppendRestore(nil, s, 7)
	n, err := RequestAcks(b)
	if err != nil || n != 2 {
		t.Fatalf("RequestAcks = %d, %v; want 2 messages", n, err)
	}
	// 5: NLM_F_REQUEST|NLM_F_ACK, as ipvsadm 1.31 sends them; nothing
	// else changes.
	want := append(withFlags(wantService, 5), withFlags(wantDest, 5)...)
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if _, err := RequestAcks(b[:len(b)-1]); err == nil {
		t.Error("RequestAcks of a truncated buffer: no error")
	}
}

func TestAppendNoopBytes(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		seq  uint32
		want []byte
	}{{
		name: "alone",
		seq:  0x01020304,
		want: []byte{
			16, 0, 0, 0, // nlmsg_len: the header alone
			1, 0, // NLMSG_NOOP
			5, 0, // NLM_F_REQUEST|NLM_F_ACK
			4, 3, 2, 1, // seq
			0, 0, 0, 0, // pid
		},
	}, {
		name: "after a request",
		b:    wantDest,
		seq:  9,
		want: append(bytes.Clone(wantDest),
			16, 0, 0, 0,
			1, 0,
			5, 0,
			9, 0, 0, 0,
			0, 0, 0, 0),
	}} {
		t.Run(c.name, func(t *testing.T) {
			got := AppendNoop(bytes.Clone(c.b), c.seq)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("AppendNoop (-want +got):\n%s", diff)
			}
		})
	}
}
