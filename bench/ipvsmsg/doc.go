// Package ipvsmsg writes a rule set as the IPVS generic netlink requests a
// restore makes, pre-built, for the kernel floor (bench/floor): one
// IPVS_CMD_NEW_SERVICE per service, one IPVS_CMD_NEW_DEST per destination,
// in the order of the restore input.
//
// The requests are the ones our ipvs package sends: NLM_F_REQUEST without
// NLM_F_ACK, so the kernel answers only the ones that fail, and a batch of
// them ends with the no-op of AppendNoop, whose ack says the kernel has
// handled them all. RequestAcks turns them into the requests of ipvsadm
// 1.31, each asking for its ack.
//
// The encoding is written out here from include/uapi/linux/ip_vs.h and
// linux/netlink.h rather than taken from package ipvs, so the floor
// shares no code, and no mistake, with the program it is the limit for;
// the tests hold hand-checked bytes.
//
// # File format
//
// A file is the requests back to back, each a whole netlink message
// (struct nlmsghdr, struct genlmsghdr, attributes), sequence numbers from
// 1. The generic netlink family id is only known at run time, so each
// message's nlmsg_type holds FamilyPlaceholder until SetFamily patches it.
package ipvsmsg
