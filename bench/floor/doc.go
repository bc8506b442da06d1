// Command ipvs-floor is the kernel floor of the benchmark: the least a
// program must do to load an IPVS table, so that a restore's time can be
// read against what the kernel itself needs.
//
//	ipvs-floor [-acked] < requests.bin
//
// It resolves the IPVS generic netlink family (one CTRL_CMD_GETFAMILY),
// reads the pre-built requests of package ipvsmsg from standard input,
// sets their family, and sends them in batches of as many whole messages
// as fit in 64 KiB, one sendmsg each. Nothing else: no parsing, no checks,
// no rollback.
//
// By default it speaks the protocol of our ipvs package, so that ours is
// read against the floor of what it asks of the kernel: the requests ask
// for no ack (the kernel's netlink_rcv_skb answers a request only if it
// asked or failed), and each batch ends, in the same sendmsg, with an
// NLMSG_NOOP that asks for one. It reads until the no-op's ack is in: the
// kernel handles a batch in order, so every request before it has then
// been handled, and any that failed has answered with its error. The
// acks it does not ask for are work the kernel does not do: an skb
// allocated, queued and read for each request.
//
// With -acked it speaks ipvsadm 1.31's protocol instead: every request
// asks for an ack, and every ack of a batch is read before the next. The
// difference between the two is what those acks cost.
//
// It speaks to the socket through golang.org/x/sys/unix alone, to stay the
// minimum. Exit status 0 when every request succeeded; 1 on the first
// error answer, named by the request's sequence number (they are numbered
// from 1 in the order of the restore), or any other failure.
package main
