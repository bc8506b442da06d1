package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/lvsgo/ipvsadm/bench/ipvsmsg"
)

const (
	// batchBytes bounds the requests of one sendmsg: the kernel handles a
	// batch's requests one after another within the call.
	batchBytes = 64 << 10
	// ackedReceiveBufferBytes must hold every ack of a batch at once when
	// each request asks for one (-acked), or the kernel drops acks
	// (ENOBUFS): each success ack is a small skb that costs the socket
	// about 768 bytes, and a 64 KiB batch holds up to about 630 requests,
	// more than the default 208 KiB can take. Without -acked a batch gets
	// one ack and the default is plenty.
	ackedReceiveBufferBytes = 4 << 20
	// readBytes is the buffer of one recvfrom: with -acked, a 64 KiB
	// batch's acks arrive in a few reads.
	readBytes = 64 << 10
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ipvs-floor:", err)
		os.Exit(1)
	}
}

func run() error {
	acked := flag.Bool("acked", false, "ask for an ack of every request and read each, as ipvsadm 1.31 does")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	msgs, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	lens, err := ipvsmsg.Split(msgs)
	if err != nil {
		return err
	}
	if *acked {
		if _, err := ipvsmsg.RequestAcks(msgs); err != nil {
			return err
		}
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if *acked {
		// SO_RCVBUFFORCE passes rmem_max; we run as root.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, ackedReceiveBufferBytes); err != nil {
			return fmt.Errorf("SO_RCVBUFFORCE: %w", err)
		}
	}
	family, err := resolveFamily(fd, "IPVS")
	if err != nil {
		return err
	}
	if _, err := ipvsmsg.SetFamily(msgs, family); err != nil {
		return err
	}
	buf := make([]byte, readBytes)
	noop := make([]byte, 0, unix.NLMSG_HDRLEN)
	kernel := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	for off, i, k := 0, 0, 0; i < len(lens); k++ {
		end, n := off, 0
		for i+n < len(lens) && (n == 0 || end+lens[i+n]-off <= batchBytes) {
			end += lens[i+n]
			n++
		}
		batch := [][]byte{msgs[off:end]}
		// last is the sequence number whose ack ends the batch: the last
		// request's when every request asks for one (the kernel answers
		// in order), else the no-op's, numbered after every request (the
		// file numbers them from 1).
		last := binary.NativeEndian.Uint32(msgs[end-lens[i+n-1]+8:])
		if !*acked {
			last = uint32(len(lens) + 1 + k)
			batch = append(batch, ipvsmsg.AppendNoop(noop[:0], last))
		}
		if _, err := unix.SendmsgBuffers(fd, batch, nil, kernel, 0); err != nil {
			return fmt.Errorf("send requests %d to %d: %w", i+1, i+n, err)
		}
		if err := readAcks(fd, buf, last); err != nil {
			return fmt.Errorf("requests %d to %d: %w", i+1, i+n, err)
		}
		off, i = end, i+n
	}
	return nil
}

// readAcks reads the answers to a batch until the ack of sequence number
// last; any answer that is an error fails it.
func readAcks(fd int, buf []byte, last uint32) error {
	for {
		r, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("receive acks: %w", err)
		}
		for b := buf[:r]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return fmt.Errorf("malformed reply")
			}
			if binary.NativeEndian.Uint16(b[4:]) == unix.NLMSG_ERROR {
				if l < unix.NLMSG_HDRLEN+4 {
					return fmt.Errorf("short ack")
				}
				seq := binary.NativeEndian.Uint32(b[8:])
				if e := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); e != 0 {
					return fmt.Errorf("request seq %d: %w", seq, unix.Errno(-e))
				}
				if seq == last {
					return nil
				}
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}

// resolveFamily asks the generic netlink controller for the id of family
// name (CTRL_CMD_GETFAMILY).
func resolveFamily(fd int, name string) (uint16, error) {
	attr := append([]byte(name), 0)
	alen := 4 + len(attr)
	msg := binary.NativeEndian.AppendUint32(nil, 0)
	msg = binary.NativeEndian.AppendUint16(msg, unix.GENL_ID_CTRL)
	msg = binary.NativeEndian.AppendUint16(msg, unix.NLM_F_REQUEST)
	msg = binary.NativeEndian.AppendUint32(msg, 0) // seq 0: the restore's start at 1
	msg = binary.NativeEndian.AppendUint32(msg, 0)
	msg = append(msg, unix.CTRL_CMD_GETFAMILY, 1, 0, 0)
	msg = binary.NativeEndian.AppendUint16(msg, uint16(alen))
	msg = binary.NativeEndian.AppendUint16(msg, unix.CTRL_ATTR_FAMILY_NAME)
	msg = append(msg, attr...)
	for len(msg)%4 != 0 {
		msg = append(msg, 0)
	}
	binary.NativeEndian.PutUint32(msg, uint32(len(msg)))
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("resolve family %s: %w", name, err)
	}
	buf := make([]byte, 8192)
	r, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, fmt.Errorf("resolve family %s: %w", name, err)
	}
	b := buf[:r]
	if len(b) < unix.NLMSG_HDRLEN+4 {
		return 0, fmt.Errorf("resolve family %s: short reply", name)
	}
	if binary.NativeEndian.Uint16(b[4:]) == unix.NLMSG_ERROR {
		e := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:]))
		return 0, fmt.Errorf("resolve family %s: %w", name, unix.Errno(-e))
	}
	// Attributes follow struct nlmsghdr and struct genlmsghdr.
	for a := b[unix.NLMSG_HDRLEN+4 : min(int(binary.NativeEndian.Uint32(b)), len(b))]; len(a) >= 4; {
		l := int(binary.NativeEndian.Uint16(a))
		if l < 4 || l > len(a) {
			break
		}
		if binary.NativeEndian.Uint16(a[2:])&^0xc000 == unix.CTRL_ATTR_FAMILY_ID && l >= 6 {
			return binary.NativeEndian.Uint16(a[4:]), nil
		}
		a = a[min((l+3)&^3, len(a)):]
	}
	return 0, fmt.Errorf("resolve family %s: no id in the reply", name)
}
