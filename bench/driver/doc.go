// Command ipvs-bench is the benchmark driver of `make bench`. It runs in the
// VM (vm/bench.sh installs it as /usr/local/sbin/ipvs-bench) and measures
// the reference ipvsadm 1.31 and ours on identical tables, alternately, in
// one boot:
//
//   - restore: ipvsadm -R of each rule set (package ruleset), ours -R, ours
//     ipvsadm-restore --atomic, and the kernel floor twice: ipvs-floor,
//     which asks for no ack of success as ours does, and ipvs-floor
//     -acked, which acks every request as the reference does; after each,
//     the table is listed with the reference's -Sn and compared byte for
//     byte with the one the reference's restore made;
//   - -Ln, -Sn and -Ln --stats of each set, the two outputs compared;
//   - -C of each set;
//   - one-shot latency: ipvsadm -a run as separate processes from a shell
//     loop, the way scripts call it;
//   - the peak memory (VmHWM) of -Sn of the largest set.
//
// Fairness: every value is the wall time of the whole process, fork to
// wait, on the monotonic clock; each run starts once the CPU has gone idle;
// restores and -C runs each get a fresh network namespace (with lo up);
// runs of the two sides alternate, and the side that goes first rotates
// from run to run; a table a row needs is loaded before the clock starts
// (with ipvs-floor, the fastest loader, whose tables the restore rows have
// checked). Values are medians.
//
// It prints a plain-text table as it goes and writes every run's values,
// with the kernel and CPU it ran on, as JSON (package result) for
// bench/report. Any difference between the two sides' tables or outputs
// ends the run with exit status 1.
//
// Usage:
//
//	ipvs-bench [-out FILE] [-runs N] [-runs-slow N] [-quick] [-blocks LIST] [-sets LIST]
package main
