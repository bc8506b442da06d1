// Command ipvs-floor is the kernel floor of the benchmark: the least a
// program must do to load an IPVS table, so that a restore's time can be
// read against what the kernel itself needs.
//
//	ipvs-floor < requests.bin
//
// It resolves the IPVS generic netlink family (one CTRL_CMD_GETFAMILY),
// reads the pre-built requests of package ipvsmsg from standard input,
// sets their family, and sends them in batches of as many whole messages
// as fit in 64 KiB, one sendmsg each, reading every ack of a batch before
// the next and failing on the first that is not 0. Nothing else: no
// parsing, no checks, no rollback.
//
// It speaks to the socket through golang.org/x/sys/unix alone, to stay the
// minimum. Exit status 0 when every request was acked with 0, 1 otherwise.
package main
