//go:build linux

package ipvstest_test

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func TestFamilyLookupIPVS(t *testing.T) {
	c := ipvstest.New().Dial()
	defer c.Close()

	f, err := genetlink.NewConn(c).GetFamily("IPVS")
	if err != nil {
		t.Fatalf("GetFamily: %v", err)
	}
	if f.ID < 0x10 || f.Name != "IPVS" || f.Version != 1 {
		t.Fatalf("family = %+v, want IPVS version 1 with a dynamic ID", f)
	}
}

func TestFamilyLookupReplyAttributes(t *testing.T) {
	c := ipvstest.New().Dial()
	defer c.Close()

	// The reply is read raw to see what genetlink.Conn ignores: the
	// header size, maxattr and the operations with their flags.
	msgs, err := genetlink.NewConn(c).Execute(genetlink.Message{
		Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1},
		Data:   encode(stra(unix.CTRL_ATTR_FAMILY_NAME, "IPVS")),
	}, unix.GENL_ID_CTRL, netlink.Request)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Header.Command != unix.CTRL_CMD_NEWFAMILY {
		t.Fatalf("replies = %+v, want one NEWFAMILY", msgs)
	}
	as, err := netlink.UnmarshalAttributes(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint16][]byte{}
	for _, a := range as {
		got[a.Type] = a.Data
	}
	if v := binary.NativeEndian.Uint32(got[unix.CTRL_ATTR_MAXATTR]); v != 6 {
		t.Errorf("maxattr = %d, want 6", v)
	}
	if v := binary.NativeEndian.Uint32(got[unix.CTRL_ATTR_HDRSIZE]); v != 0 {
		t.Errorf("hdrsize = %d, want 0", v)
	}

	ops, err := netlink.UnmarshalAttributes(got[unix.CTRL_ATTR_OPS])
	if err != nil {
		t.Fatal(err)
	}
	cmds := map[uint32]uint32{}
	for _, op := range ops {
		fields, err := netlink.UnmarshalAttributes(op.Data)
		if err != nil {
			t.Fatal(err)
		}
		cmds[binary.NativeEndian.Uint32(fields[0].Data)] = binary.NativeEndian.Uint32(fields[1].Data)
	}
	const admin, do, dump, pol = 1, 2, 4, 8
	want := map[uint32]uint32{
		cNewService: admin | do | pol, cSetService: admin | do | pol, cDelService: admin | do | pol,
		cGetService: admin | do | dump | pol,
		cNewDest:    admin | do | pol, cSetDest: admin | do | pol, cDelDest: admin | do | pol,
		cGetDest:   admin | dump | pol,
		cNewDaemon: admin | do | pol, cDelDaemon: admin | do | pol, cGetDaemon: admin | dump | pol,
		cSetConfig: admin | do | pol, cGetConfig: admin | do | pol, cGetInfo: admin | do | pol,
		cZero: admin | do | pol, cFlush: admin | do | pol,
	}
	if diff := cmp.Diff(want, cmds); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
}

func TestFamilyLookupErrors(t *testing.T) {
	tests := []struct {
		name  string
		attrs []attr
		want  unix.Errno
	}{
		{"unknown name", []attr{stra(unix.CTRL_ATTR_FAMILY_NAME, "NOPE")}, unix.ENOENT},
		{"unknown id", []attr{u16a(unix.CTRL_ATTR_FAMILY_ID, 0x7777)}, unix.ENOENT},
		{"no attributes", nil, unix.EINVAL},
		{"name without NUL", []attr{rawa(unix.CTRL_ATTR_FAMILY_NAME, 'I', 'P', 'V', 'S')}, unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ipvstest.New().Dial()
			defer c.Close()
			_, err := genetlink.NewConn(c).Execute(genetlink.Message{
				Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1},
				Data:   encode(tt.attrs...),
			}, unix.GENL_ID_CTRL, netlink.Request)
			if got := errnoOf(t, err); got != tt.want {
				t.Fatalf("errno = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFamilyLookupByID(t *testing.T) {
	k := ipvstest.New()
	c := dial(t, k)
	msgs, err := genetlink.NewConn(c.c).Execute(genetlink.Message{
		Header: genetlink.Header{Command: unix.CTRL_CMD_GETFAMILY, Version: 1},
		Data:   encode(u16a(unix.CTRL_ATTR_FAMILY_ID, c.family)),
	}, unix.GENL_ID_CTRL, netlink.Request)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("lookup by id: %v, %d replies", err, len(msgs))
	}
}

func TestFamilyListDump(t *testing.T) {
	c := ipvstest.New().Dial()
	defer c.Close()
	fs, err := genetlink.NewConn(c).ListFamilies()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Name != "IPVS" {
		t.Fatalf("families = %+v, want IPVS", fs)
	}
}

func TestUnknownFamilyIsENOENT(t *testing.T) {
	c := ipvstest.New().Dial()
	defer c.Close()
	_, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: 0x7777, Flags: reqAck},
		Data:   []byte{1, 1, 0, 0},
	})
	if got := errnoOf(t, err); got != unix.ENOENT {
		t.Fatalf("errno = %v, want ENOENT", got)
	}
}
