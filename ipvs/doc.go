// Package ipvs is a client for the Linux kernel's IP Virtual Server (IPVS)
// generic netlink family, "IPVS" version 1.
//
// It covers every command of the family: the table of virtual services and
// their destinations (real servers), connection timeouts, connection
// synchronisation daemons, counters and the module's version. See
// https://www.kernel.org/doc/html/latest/networking/ipvs-sysctl.html and
// include/uapi/linux/ip_vs.h in the kernel sources.
//
// Configuration and observation are kept apart: a Service or Destination holds
// what an operator configures, and ServiceExtended or DestinationExtended adds
// what the kernel reports (statistics, connection counts), so comparing a
// desired table with the live one is comparing the embedded values.
//
// Writes can be sent one at a time, or as a batch of Ops in few system calls
// (Client.Apply), with the outcome of each reported in order. Dumps are read in
// large chunks and handed to a callback as they arrive (Client.WalkServices).
//
// Errors from the kernel are *Error values that keep the raw errno: use
// errors.Is with os.ErrNotExist, os.ErrExist or os.ErrPermission, or errors.As
// with a unix.Errno to tell them apart. Values that the kernel would reject
// for their shape are refused before anything is sent, with an error that
// answers errors.Is(err, ErrInvalid).
//
// The package ipvstest emulates the kernel side in memory, so code built on
// this package can be tested without root or an IPVS kernel.
package ipvs
