// Package persist is the commands ipvsadm-save and ipvsadm-restore.
//
// Run without the options of their own, they are ipvsadm 1.31's wrapper
// scripts (package compat): ipvsadm-save prints ipvsadm -S, ipvsadm-restore
// clears the table and runs ipvsadm -R, line by line. Their own options make
// them safe to run from boot scripts and automation:
//
//	ipvsadm-restore --atomic [--dry-run] [--allow-missing] [FILE]
//	ipvsadm-restore --sync   [--dry-run] [--allow-missing] [FILE]
//	ipvsadm-save [-n] --file FILE
//
// --atomic reads and checks the whole input before it writes anything, then
// clears the table and loads the input as one transaction (package rules): if
// the kernel refuses a write, everything is undone. --sync applies only the
// difference between the input and the live table, in place, also as one
// transaction. --file replaces FILE atomically, so that it is always either
// the old file or the new one, whole. These runs take a lock file, so that
// two of them on one host never interleave.
package persist
