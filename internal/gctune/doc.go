// Package gctune sets the garbage collector of the short-lived commands
// ipvsadm, ipvsadm-save and ipvsadm-restore, which keep most of what they
// allocate until they exit.
package gctune
