// Package hostlock serialises processes on one host, such as two
// ipvsadm-restore --sync runs started at once, with an exclusive flock(2) on a
// lock file.
//
//	l, err := hostlock.Lock("/run/ipvsadm.lock")
//	if err != nil {
//		return err
//	}
//	defer l.Unlock()
//
// flock locks belong to an open file description, not to a process: two
// Locks on one path exclude each other even within one process, and the
// kernel releases a lock when its holder dies, so a crash never leaves a
// stale lock behind. The lock file itself stays; see Held.Unlock.
//
// The lock file may live in a directory others can write to, so it is never
// followed through a symbolic link, and a file that is not a regular file or
// not owned by the caller is refused rather than used: whoever planted it
// could otherwise hold the lock forever or make us open a device.
package hostlock
