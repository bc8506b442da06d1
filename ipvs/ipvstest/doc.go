// Package ipvstest emulates, in memory, the IPVS generic netlink family of
// the Linux 6.1 kernel (net/netfilter/ipvs/ip_vs_ctl.c), so that code which
// talks to IPVS can be tested without root and without a kernel. The
// emulated source is
// https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tree/net/netfilter/ipvs/ip_vs_ctl.c?h=linux-6.1.y
//
// A Kernel holds the table of one network namespace: services, their
// destinations, the sync daemons, the protocol timeouts. Kernel.Dial returns
// a *netlink.Conn whose socket behaves like a NETLINK_GENERIC socket: the
// controller answers the family lookup for "IPVS"; requests are processed
// from their bytes, message by message as netlink_rcv_skb does, including
// several messages sent in one datagram; every reply, acknowledgement and
// dump datagram is received on its own; dumps are cut into datagrams the
// size the kernel fills (NLMSG_GOODSIZE) and end with NLMSG_DONE.
//
//	k := ipvstest.New()
//	conn := k.Dial() // hand to genetlink.NewConn, or to the client under test
//
// Requests are decoded and replies encoded by this package's own code,
// written from the kernel's attribute policies and fill functions rather
// than shared with any client, so a client's wire mistake (a port sent in
// host order, say) is caught instead of mirrored. Validation, its order and
// its errnos follow ip_vs_ctl.c and ip_vs_sync.c of 6.1. The same scenario
// tests that run against this package are run against a real 6.1 kernel in
// the project's VM, which is what holds the emulation to the kernel.
//
// Choices where the kernel cannot be reproduced exactly:
//
//   - Service dumps list address services before fwmark services, as the
//     kernel does, but in creation order within each: the kernel walks hash
//     buckets whose index mixes in the address of the namespace.
//   - The namespace has the interfaces lo (MTU 65536), eth0 and eth1 (MTU
//     1500), without addresses; sync daemons need one of them.
//   - HZ is 250 (Debian's configuration), visible in SET_CONFIG's upper
//     bound (INT_MAX/HZ) and in persistence timeouts that wrap in jiffies.
//   - Errnos are the host's unix.Errno values, which are the kernel's on
//     Linux; the package builds on Linux only.
//   - Receive on an empty socket fails with EAGAIN instead of blocking.
//
// Not emulated: connections and traffic (connection counts and statistics
// are whatever a test sets with SetConnCounts, SetServiceStats and
// SetDestinationStats; rates do not move on their own), the destination
// trash that lets the kernel revive a deleted destination with its
// statistics, the CAP_NET_ADMIN check (EPERM), module loading, the sockopt
// interface, extended acknowledgement TLVs and other families than IPVS.
package ipvstest
