// Package rules is the IPVS table as a rule set: the services, in order,
// each with its destinations, in order, as an ipvsadm rules file
// (/etc/sysconfig/ipvsadm, /etc/ipvsadm.rules) writes them.
//
// Parse reads the lines ipvsadm -R accepts, with ipvsadm's own grammar
// (package compat), into the Set they build from an empty table; Format
// writes a Set as ipvsadm -S does. Diff and Replace turn the table as it is
// into the Set it should be as a Plan of writes, and Plan.Apply carries one
// out as a transaction: on the first write the kernel refuses, every write
// already made is undone, newest first, so that the table is as it was.
//
// Nothing here speaks netlink: a Plan applies to a Table, which
// *ipvs.Client is, and which package ipvstest serves in memory for tests.
package rules
