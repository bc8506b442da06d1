package ipvs

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrFamilyNotFound reports that the kernel has no IPVS generic netlink
// family: the ip_vs module is not loaded, or IPVS is not built. Loading the
// module (modprobe ip_vs) and calling New again may help.
var ErrFamilyNotFound = errors.New("ipvs: generic netlink family IPVS not found (is the ip_vs module loaded?)")

// ErrInvalid reports a value that was refused before anything was sent,
// because the kernel would refuse its shape: a service with neither an
// address nor a firewall mark, an IPv6 netmask over 128, and so on.
var ErrInvalid = errors.New("invalid argument")

// ErrMalformedReply reports a reply from the kernel that lacks a mandatory
// attribute or carries one of the wrong size.
var ErrMalformedReply = errors.New("malformed reply from the kernel")

// An Error is a failed IPVS command. Err is usually the kernel's errno, a
// syscall.Errno (unix.Errno); errors.As reaches it.
type Error struct {
	Command Command
	Err     error
}

func (e *Error) Error() string {
	return "ipvs: " + e.Command.String() + ": " + e.Err.Error()
}

// Unwrap returns the underlying error, usually an errno.
func (e *Error) Unwrap() error { return e.Err }

// Is maps the kernel's "no such service" (ESRCH) to os.ErrNotExist, like the
// errno's own mapping of ENOENT; EEXIST answers os.ErrExist and EPERM
// os.ErrPermission through the errno itself.
func (e *Error) Is(target error) bool {
	var errno syscall.Errno
	if !errors.As(e.Err, &errno) {
		return false
	}
	switch target {
	case os.ErrNotExist:
		return errno == syscall.ESRCH || errno == syscall.ENOENT
	case os.ErrPermission:
		return errno == syscall.EPERM || errno == syscall.EACCES
	case os.ErrExist:
		return errno == syscall.EEXIST
	}
	return false
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("ipvs: %w: "+format, append([]any{ErrInvalid}, args...)...)
}
