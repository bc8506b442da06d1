package compat

import (
	"errors"
	"syscall"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// A libipvsFunc is the libipvs function whose failure a message describes:
// ipvs_strerror looks up (function, errno) first, then the errno alone.
type libipvsFunc int

const (
	// funcGeneric is for the calls that do not record themselves in
	// libipvs on the netlink path (init, the service dump, flush, info,
	// timeouts, daemons): only the generic rows apply.
	funcGeneric libipvsFunc = iota
	funcAddService
	funcUpdateService
	funcDelService
	funcZeroService
	funcAddDest
	funcUpdateDest
	funcDelDest
	funcStartDaemon
	funcStopDaemon
	funcGetDests
	funcGetService
)

// kernelMessages are libipvs's function-specific rows.
var kernelMessages = map[libipvsFunc]map[syscall.Errno]string{
	funcAddService: {
		syscall.EEXIST: "Service already exists",
		syscall.ENOENT: "Scheduler or persistence engine not found",
	},
	funcUpdateService: {
		syscall.ESRCH:  "No such service",
		syscall.ENOENT: "Scheduler or persistence engine not found",
	},
	funcDelService:  {syscall.ESRCH: "No such service"},
	funcZeroService: {syscall.ESRCH: "No such service"},
	funcAddDest: {
		syscall.ESRCH:  "Service not defined",
		syscall.EEXIST: "Destination already exists",
	},
	funcUpdateDest: {
		syscall.ESRCH:  "Service not defined",
		syscall.ENOENT: "No such destination",
	},
	funcDelDest: {
		syscall.ESRCH:  "Service not defined",
		syscall.ENOENT: "No such destination",
	},
	funcStartDaemon: {syscall.EEXIST: "Daemon has already run"},
	funcStopDaemon:  {syscall.ESRCH: "No daemon is running"},
	funcGetDests:    {syscall.ESRCH: "No such service"},
	funcGetService:  {syscall.ESRCH: "No such service"},
}

// genericMessages are libipvs's rows for any function.
var genericMessages = map[syscall.Errno]string{
	syscall.EPERM:        "Permission denied (you must be root)",
	syscall.EINVAL:       "Invalid operation.  Possibly wrong module version, address not unicast, ...",
	syscall.ENOPROTOOPT:  "Protocol not available",
	syscall.ENOMEM:       "Memory allocation problem",
	syscall.EOPNOTSUPP:   "Operation not supported with IPv6",
	syscall.EAFNOSUPPORT: "Operation not supported with specified address family",
	syscall.EMSGSIZE:     "Module is wrong version",
}

// errnoOf is the errno libipvs would have seen for err: the kernel's, or
// EINVAL for a reply it cannot parse or a failure without a kernel error,
// and ENOPROTOOPT when there is no IPVS family (libipvs then falls back to
// the old socket options, which fail so).
func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case errors.Is(err, ipvs.ErrFamilyNotFound):
		return syscall.ENOPROTOOPT
	case errors.As(err, &errno):
		return errno
	}
	return syscall.EINVAL
}

// kernelMessage is ipvs_strerror: the text ipvsadm prints when fn failed
// with err.
func kernelMessage(fn libipvsFunc, err error) string {
	errno := errnoOf(err)
	if msg, ok := kernelMessages[fn][errno]; ok {
		return msg
	}
	if msg, ok := genericMessages[errno]; ok {
		return msg
	}
	return strerror(errno)
}

// strerror is glibc's text for errno. Go's texts are glibc's with the first
// letter in lower case.
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
