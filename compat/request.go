package compat

import (
	"io"
	"net/netip"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// A commandKind is one of ipvsadm's commands; its value indexes
// commandNames, the names ipvsadm's messages use.
type commandKind int

const (
	cmdNone commandKind = iota - 1
	cmdAddService
	cmdEditService
	cmdDeleteService
	cmdFlush
	cmdList
	cmdAddServer
	cmdDeleteServer
	cmdEditServer
	cmdSetTimeouts
	cmdStartDaemon
	cmdStopDaemon
	cmdRestore
	cmdSave
	cmdZero
)

// commandNames are ipvsadm's cmdnames, in its order.
var commandNames = [...]string{
	cmdAddService:    "add-service",
	cmdEditService:   "edit-service",
	cmdDeleteService: "delete-service",
	cmdFlush:         "flush",
	cmdList:          "list",
	cmdAddServer:     "add-server",
	cmdDeleteServer:  "delete-server",
	cmdEditServer:    "edit-server",
	cmdSetTimeouts:   "set",
	cmdStartDaemon:   "start-daemon",
	cmdStopDaemon:    "stop-daemon",
	cmdRestore:       "restore",
	cmdSave:          "save",
	cmdZero:          "zero",
}

func (c commandKind) String() string { return commandNames[c] }

// An optionBit is one of ipvsadm's option bits; its value is the bit
// number, which orders the legality checks, and indexes optionNames.
type optionBit uint

const (
	optNumeric optionBit = iota
	optConnection
	optServiceAddress
	optScheduler
	optPersistent
	optNetmask
	optRealServer
	optForwardingMethod
	optWeight
	optUThreshold
	optLThreshold
	optMcastInterface
	optTimeout
	optDaemon
	optStats
	optRate
	optThresholds
	optPersistentConn
	optNoSort
	optSyncID
	optExact
	optOps
	optPE
	optSchedFlags
	optMcastGroup
	optMcastPort
	optMcastTTL
	optSyncMaxlen
	optTunInfo
	optTunType
	optTunPort
	optTunNoCsum
	optTunCsum
	optTunRemCsum
	numOptions
)

// optionNames are ipvsadm's optnames, in bit order.
var optionNames = [numOptions]string{
	"numeric", "connection", "service-address", "scheduler", "persistent", "netmask",
	"real-server", "forwarding-method", "weight", "u-threshold", "l-threshold",
	"mcast-interface", "timeout", "daemon", "stats", "rate", "thresholds",
	"persistent-conn", "nosort", "syncid", "exact", "ops", "pe", "sched-flags",
	"mcast-group", "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info", "tun-type",
	"tun-port", "tun-nocsum", "tun-csum", "tun-remcsum",
}

func (o optionBit) String() string { return optionNames[o] }

// optionSet is a set of option bits.
type optionSet uint64

func (s optionSet) has(o optionBit) bool { return s&(1<<o) != 0 }

// A request is one parsed and validated ipvsadm command line: what the
// command is, and the values it works on with every default applied (the
// scheduler wlc, weight 1, the real-server port forced for -g and -i, ...),
// so that running it is a plain call of the library.
type request struct {
	command commandKind
	options optionSet

	service     ipvs.Service
	destination ipvs.Destination
	daemon      ipvs.Daemon   // --start-daemon / --stop-daemon
	timeouts    ipvs.Timeouts // --set
}

// An exit is how an invocation ends early: text for stdout and stderr and an
// exit status. ipvsadm's fail() is status 2; popt errors and the "Try" line
// are 255; -h and -v are 0.
type exit struct {
	status int
	stdout string
	stderr string
	// lineFails marks a popt error after the command: in a restore only
	// that line fails, where every other exit ends the restore.
	lineFails bool
}

// Names answers the name lookups ipvsadm makes through the C library, so
// that tests can fix them and the commands can use the system's.
type Names interface {
	// HostAddr is gethostbyname: the first IPv4 address of a host name.
	HostAddr(name string) (netip.Addr, bool)
	// AddrHost is gethostbyaddr: the canonical name of an address.
	AddrHost(addr netip.Addr) (string, bool)
	// ServicePort is getservbyname(name, proto), proto "tcp", "udp" or
	// "sctp".
	ServicePort(name, proto string) (uint16, bool)
	// PortService is getservbyport(port, proto).
	PortService(port uint16, proto string) (string, bool)
}

// Env is the world one ipvsadm invocation runs in.
type Env struct {
	// Args is argv; Args[0] is the program name ipvsadm's messages use.
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Dial opens the IPVS client: ipvs.New, or a client of ipvstest.
	Dial func() (*ipvs.Client, error)
	// Modprobe loads the ip_vs module, as ipvsadm runs
	// "/sbin/modprobe -- ip_vs" when IPVS cannot be initialised; nil
	// means there is no way to.
	Modprobe func() error
	Names    Names
	// OpenConnections opens /proc/net/ip_vs_conn, for -L -c.
	OpenConnections func() (io.ReadCloser, error)
}
