// Package compat is everything that must match ipvsadm 1.31 to the byte: the
// option grammar as libpopt parses it, validation and its messages, the
// kernel-error messages of libipvs, exit statuses, every listing format, the
// save format and the line-by-line restore.
//
// Main runs one ipvsadm invocation in an Env, so that the commands in cmd/
// are thin and tests can run ipvsadm against the in-memory kernel of
// ipvs/ipvstest with fixed name lookups.
package compat
