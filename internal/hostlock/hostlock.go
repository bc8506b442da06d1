//go:build unix && !aix

// AIX is left out: it has no flock(2).

package hostlock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrLocked reports that TryLock found the lock held by another process, or
// by another Lock in this one.
var ErrLocked = errors.New("locked by another holder")

// errNotRegular refuses a lock file that is a FIFO, a device or a socket.
var errNotRegular = errors.New("not a regular file")

// errNotOwner refuses a lock file that someone else owns: in a directory
// anyone can write to, its owner could have planted it to hold the lock
// forever.
var errNotOwner = errors.New("not owned by the caller")

// A Held is an exclusive lock on a lock file, held until Unlock. It is not
// safe for concurrent use.
type Held struct {
	path string
	// fd is a bare descriptor, not an *os.File, whose finalizer would
	// close it, and so release the lock, as soon as the Held was
	// unreachable: a lock must last until Unlock or the process's end.
	fd int
}

// Lock takes an exclusive lock on the file at path, creating it with mode
// 0600 if need be, and waits for as long as another holder has it.
//
// path must not be a symbolic link (errors.Is(err, syscall.ELOOP)), and the
// file must be a regular file owned by the caller's effective user. Errors
// name path and keep the errno.
func Lock(path string) (*Held, error) {
	return lock(path, unix.LOCK_EX)
}

// TryLock is Lock without the wait: if another holder has the lock, it
// returns an error that answers errors.Is(err, ErrLocked).
func TryLock(path string) (*Held, error) {
	return lock(path, unix.LOCK_EX|unix.LOCK_NB)
}

func lock(path string, how int) (*Held, error) {
	fd, err := open(path)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(fd, how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		if err == unix.EWOULDBLOCK {
			err = ErrLocked
		}
		return nil, &os.PathError{Op: "lock", Path: path, Err: err}
	}
	return &Held{path: path, fd: fd}, nil
}

// open opens or creates the lock file at path and checks that it is one.
// It neither truncates nor otherwise changes an existing file, whose content
// flock does not care about.
func open(path string) (int, error) {
	// O_RDWR because some systems want a writable descriptor for a lock
	// (flock emulated with fcntl locks, NFS). O_NONBLOCK so that a FIFO
	// planted at path cannot block the open before fstat refuses it; it
	// does not make flock non-blocking, LOCK_NB does.
	const flags = unix.O_RDWR | unix.O_CREAT | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, flags, 0o600)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	// Check the file that was opened, not the name, which may have been
	// swapped since.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	switch euid := os.Geteuid(); {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		err = errNotRegular
	case int(st.Uid) != euid:
		err = fmt.Errorf("%w: owner is uid %d, caller is uid %d", errNotOwner, st.Uid, euid)
	}
	if err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "lock", Path: path, Err: err}
	}
	return fd, nil
}

// Unlock releases the lock and closes the lock file. It does not remove the
// file: a process that opened it before the removal would lock the removed
// file while a later one creates and locks a new one, and both would think
// they hold the lock.
//
// Unlocking twice returns an error that answers errors.Is(err, os.ErrClosed).
func (l *Held) Unlock() error {
	if l.fd < 0 {
		return &os.PathError{Op: "unlock", Path: l.path, Err: os.ErrClosed}
	}
	fd := l.fd
	l.fd = -1
	// LOCK_UN first: close alone releases the lock only once every
	// duplicate of the descriptor is closed.
	err := unix.Flock(fd, unix.LOCK_UN)
	// close is not retried on EINTR: on Linux the descriptor is gone
	// whatever it returns.
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "unlock", Path: l.path, Err: err}
	}
	return nil
}
