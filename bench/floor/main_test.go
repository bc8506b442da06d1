package main

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// answer is an NLMSG_ERROR as the kernel's netlink_ack writes it: the
// error (0 for an ack) and the header of the request it answers.
func answer(seq uint32, errno unix.Errno) []byte {
	b := binary.NativeEndian.AppendUint32(nil, unix.NLMSG_HDRLEN+4+unix.NLMSG_HDRLEN)
	b = binary.NativeEndian.AppendUint16(b, unix.NLMSG_ERROR)
	b = binary.NativeEndian.AppendUint16(b, 0)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = binary.NativeEndian.AppendUint32(b, uint32(-int32(errno)))
	// The request's header, as echoed; its contents do not matter here.
	return append(b, make([]byte, unix.NLMSG_HDRLEN)...)
}

func TestReadAcks(t *testing.T) {
	for _, c := range []struct {
		name      string
		datagrams [][]byte
		last      uint32
		wantErr   error // nil: the batch is through
	}{{
		name:      "the no-op's ack ends an ack-less batch",
		datagrams: [][]byte{answer(21, 0)},
		last:      21,
	}, {
		name:      "every ack of an acked batch is read up to the last",
		datagrams: [][]byte{answer(1, 0), answer(2, 0), append(answer(3, 0), answer(4, 0)...)},
		last:      4,
	}, {
		name:      "an error answer fails the batch before the no-op's ack",
		datagrams: [][]byte{answer(2, unix.EEXIST), answer(21, 0)},
		last:      21,
		wantErr:   unix.EEXIST,
	}, {
		name: "other messages are passed over",
		datagrams: [][]byte{
			{16, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // NLMSG_DONE
			answer(21, 0),
		},
		last: 21,
	}} {
		t.Run(c.name, func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fds[0])
			defer unix.Close(fds[1])
			for _, d := range c.datagrams {
				if _, err := unix.Write(fds[1], d); err != nil {
					t.Fatal(err)
				}
			}
			// Nothing after the last ack may be read: it answers the
			// next batch.
			next := answer(99, 0)
			if _, err := unix.Write(fds[1], next); err != nil {
				t.Fatal(err)
			}
			err = readAcks(fds[0], make([]byte, readBytes), c.last)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("readAcks = %v, want %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			got := make([]byte, 100)
			if n, _ := unix.Read(fds[0], got); n != len(next) || binary.NativeEndian.Uint32(got[8:]) != 99 {
				t.Errorf("after the batch, read % x; want the next batch's answer", got[:n])
			}
		})
	}
}

func TestReadAcksNamesTheFailedRequest(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	if _, err := unix.Write(fds[1], answer(1234, unix.ENOENT)); err != nil {
		t.Fatal(err)
	}
	err = readAcks(fds[0], make([]byte, readBytes), 2000)
	if want := "request seq 1234: " + unix.ENOENT.Error(); err == nil || err.Error() != want {
		t.Errorf("readAcks = %v, want %q", err, want)
	}
}
