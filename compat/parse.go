package compat

import (
	"math/bits"
	"strings"
	"time"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// This file is ipvsadm 1.31's command line (§2 of the reference): its option
// table as libpopt 1.19 reads it, the processing of each option in
// command-line order, and the checks after it, in ipvsadm's order, so that
// the first error ipvsadm reports is the one reported here.

// An argKind is how an option takes its argument, as popt's argInfo.
type argKind uint8

const (
	argNone argKind = iota
	argRequired
	// argOptional is -p: the text attached to it, else the next argument
	// unless that begins with '-'.
	argOptional
)

// An optionKind is what ipvsadm does with an option popt returns.
type optionKind uint8

const (
	// kindOption sets its bit ("multiple '%s' options specified" the
	// second time), then runs its handler, if any.
	kindOption optionKind = iota
	// kindPlain sets no bit: --sort and -6.
	kindPlain
	kindCommand
	kindHelp
	kindVersion
)

// An optionSpec is one entry of ipvsadm's popt table.
type optionSpec struct {
	long  string
	short byte
	arg   argKind
	kind  optionKind
	cmd   commandKind // for kindCommand
	bit   optionBit   // for kindOption
	// act is what the option does with its argument, if anything.
	act action
}

// An action is what an option does beyond its bit, as the case of
// ipvsadm's process_options switch for it. It is a value and not a
// function so that the parser is never passed through a function value:
// the compiler would then move the parser, and the request it fills, to
// the heap, and a restore parses every line.
type action uint8

const (
	actNone action = iota
	actTCPService
	actUDPService
	actSCTPService
	actFwmarkService
	actScheduler
	actPersistent
	actNetmask
	actRealServer
	actMasquerading
	actIPIP
	actGatewaying
	actWeight
	actUThreshold
	actLThreshold
	actMcastInterface
	actSyncID
	actIPv6
	actOnePacket
	actPE
	actSchedFlags
	actMcastGroup
	actMcastPort
	actMcastTTL
	actSyncMaxlen
	actTunType
	actTunPort
	actTunCsum
	actTunRemCsum
)

// optionTable is ipvsadm's popt table, in its order (popt returns the first
// match, which only matters for the two entries named "list").
var optionTable = [...]optionSpec{
	{long: "add-service", short: 'A', kind: kindCommand, cmd: cmdAddService},
	{long: "edit-service", short: 'E', kind: kindCommand, cmd: cmdEditService},
	{long: "delete-service", short: 'D', kind: kindCommand, cmd: cmdDeleteService},
	{long: "clear", short: 'C', kind: kindCommand, cmd: cmdFlush},
	{long: "list", short: 'L', kind: kindCommand, cmd: cmdList},
	{long: "list", short: 'l', kind: kindCommand, cmd: cmdList},
	{long: "zero", short: 'Z', kind: kindCommand, cmd: cmdZero},
	{long: "add-server", short: 'a', kind: kindCommand, cmd: cmdAddServer},
	{long: "edit-server", short: 'e', kind: kindCommand, cmd: cmdEditServer},
	{long: "delete-server", short: 'd', kind: kindCommand, cmd: cmdDeleteServer},
	{long: "set", kind: kindCommand, cmd: cmdSetTimeouts},
	{long: "help", short: 'h', kind: kindHelp},
	{long: "version", short: 'v', kind: kindVersion},
	{long: "restore", short: 'R', kind: kindCommand, cmd: cmdRestore},
	{long: "save", short: 'S', kind: kindCommand, cmd: cmdSave},
	{long: "start-daemon", arg: argRequired, kind: kindCommand, cmd: cmdStartDaemon},
	{long: "stop-daemon", arg: argRequired, kind: kindCommand, cmd: cmdStopDaemon},
	{long: "tcp-service", short: 't', arg: argRequired, bit: optServiceAddress, act: actTCPService},
	{long: "udp-service", short: 'u', arg: argRequired, bit: optServiceAddress, act: actUDPService},
	{long: "sctp-service", arg: argRequired, bit: optServiceAddress, act: actSCTPService},
	{long: "fwmark-service", short: 'f', arg: argRequired, bit: optServiceAddress, act: actFwmarkService},
	{long: "scheduler", short: 's', arg: argRequired, bit: optScheduler, act: actScheduler},
	{long: "persistent", short: 'p', arg: argOptional, bit: optPersistent, act: actPersistent},
	{long: "netmask", short: 'M', arg: argRequired, bit: optNetmask, act: actNetmask},
	{long: "real-server", short: 'r', arg: argRequired, bit: optRealServer, act: actRealServer},
	{long: "masquerading", short: 'm', bit: optForwardingMethod, act: actMasquerading},
	{long: "ipip", short: 'i', bit: optForwardingMethod, act: actIPIP},
	{long: "gatewaying", short: 'g', bit: optForwardingMethod, act: actGatewaying},
	{long: "weight", short: 'w', arg: argRequired, bit: optWeight, act: actWeight},
	{long: "u-threshold", short: 'x', arg: argRequired, bit: optUThreshold, act: actUThreshold},
	{long: "l-threshold", short: 'y', arg: argRequired, bit: optLThreshold, act: actLThreshold},
	{long: "numeric", short: 'n', bit: optNumeric},
	{long: "connection", short: 'c', bit: optConnection},
	{long: "mcast-interface", arg: argRequired, bit: optMcastInterface, act: actMcastInterface},
	// --syncid has no short form: ipvsadm's 'I' is only its popt value.
	{long: "syncid", arg: argRequired, bit: optSyncID, act: actSyncID},
	{long: "timeout", bit: optTimeout},
	{long: "daemon", bit: optDaemon},
	{long: "stats", bit: optStats},
	{long: "rate", bit: optRate},
	{long: "thresholds", bit: optThresholds},
	{long: "persistent-conn", bit: optPersistentConn},
	{long: "nosort", bit: optNoSort},
	// --sort does nothing, for backwards compatibility.
	{long: "sort", kind: kindPlain},
	{long: "exact", short: 'X', bit: optExact},
	{long: "ipv6", short: '6', kind: kindPlain, act: actIPv6},
	{long: "ops", short: 'o', bit: optOps, act: actOnePacket},
	{long: "pe", arg: argRequired, bit: optPE, act: actPE},
	{long: "sched-flags", short: 'b', arg: argRequired, bit: optSchedFlags, act: actSchedFlags},
	{long: "mcast-group", arg: argRequired, bit: optMcastGroup, act: actMcastGroup},
	{long: "mcast-port", arg: argRequired, bit: optMcastPort, act: actMcastPort},
	{long: "mcast-ttl", arg: argRequired, bit: optMcastTTL, act: actMcastTTL},
	{long: "sync-maxlen", arg: argRequired, bit: optSyncMaxlen, act: actSyncMaxlen},
	{long: "tun-info", bit: optTunInfo},
	{long: "tun-type", arg: argRequired, bit: optTunType, act: actTunType},
	{long: "tun-port", arg: argRequired, bit: optTunPort, act: actTunPort},
	{long: "tun-nocsum", bit: optTunNoCsum},
	{long: "tun-csum", bit: optTunCsum, act: actTunCsum},
	{long: "tun-remcsum", bit: optTunRemCsum, act: actTunRemCsum},
}

// longOptions and shortOptions index optionTable by name and by letter,
// the first entry winning as in popt's search, so that a restore does not
// walk the table for every option of every line.
var longOptions = func() map[string]*optionSpec {
	m := make(map[string]*optionSpec, len(optionTable))
	for i := range optionTable {
		if _, ok := m[optionTable[i].long]; !ok {
			m[optionTable[i].long] = &optionTable[i]
		}
	}
	return m
}()

var shortOptions = func() (index [256]*optionSpec) {
	for i := range optionTable {
		if c := optionTable[i].short; c != 0 && index[c] == nil {
			index[c] = &optionTable[i]
		}
	}
	return index
}()

// A poptError is one of the errors of poptGetNextOpt ipvsadm can meet.
type poptError int

const (
	poptOK poptError = iota
	poptMissingArgument
	poptUnknownOption
	poptUnwantedArgument
)

// String is poptStrerror.
func (e poptError) String() string {
	switch e {
	case poptMissingArgument:
		return "missing argument"
	case poptUnknownOption:
		return "unknown option"
	case poptUnwantedArgument:
		return "option does not take an argument"
	}
	return ""
}

// A poptContext walks argv the way libpopt 1.19's poptGetNextOpt does with
// ipvsadm's table, no aliases and no config files.
type poptContext struct {
	args []string
	next int // the argv element to look at next; argv[next-1] is the one an error names
	// cluster is the rest of a short-option cluster ("-Ln" after the L).
	cluster string
	// rest is set by "--": every later element is a leftover.
	rest      bool
	leftovers []string
	// taken marks elements a "!#:+" in an option argument has used.
	taken []bool
	// bang is whether an element has a '!': without one, no option
	// argument has a "!#:+" to expand.
	bang bool
}

// nextOption returns the next option and its argument, or a nil spec at the
// end of argv. Non-options are collected as leftovers on the way.
func (c *poptContext) nextOption() (spec *optionSpec, arg string, hasArg bool, err poptError) {
	longArg, hasLongArg := "", false
	for spec == nil {
		if c.cluster == "" {
			if c.next >= len(c.args) {
				return nil, "", false, poptOK
			}
			if c.taken != nil && c.taken[c.next] {
				c.next++
				continue
			}
			s := c.args[c.next]
			c.next++
			switch {
			case c.rest || s == "" || s[0] != '-' || s == "-":
				c.leftovers = append(c.leftovers, s)
				continue
			case s == "--":
				c.rest = true
				continue
			case s[1] == '-':
				name := s[2:]
				if i := strings.IndexByte(name, '='); i >= 0 {
					name, longArg, hasLongArg = name[:i], name[i+1:], true
				}
				if spec = longOptions[name]; spec == nil {
					return nil, "", false, poptUnknownOption
				}
				continue
			}
			// A single dash could name a long option marked
			// POPT_ARGFLAG_ONEDASH; ipvsadm has none, so "-list" is
			// -l -i -s t.
			c.cluster = s[1:]
		}
		if spec = shortOptions[c.cluster[0]]; spec == nil {
			c.cluster = ""
			return nil, "", false, poptUnknownOption
		}
		c.cluster = c.cluster[1:]
	}

	if spec.arg == argNone {
		if hasLongArg || (c.cluster != "" && c.cluster[0] == '=') {
			return spec, "", false, poptUnwantedArgument
		}
		return spec, "", false, poptOK
	}
	switch {
	case hasLongArg:
		arg = longArg
	case c.cluster != "":
		// "-s=rr" as "-srr".
		arg = strings.TrimPrefix(c.cluster, "=")
		c.cluster = ""
	case c.next >= len(c.args):
		if spec.arg == argRequired {
			return spec, "", false, poptMissingArgument
		}
		return spec, "", false, poptOK
	case spec.arg == argOptional && strings.HasPrefix(c.args[c.next], "-"):
		return spec, "", false, poptOK
	default:
		// Taken even when it begins with '-' ("-s -n" is scheduler
		// "-n"), and even when "!#:+" has already used it.
		arg = c.args[c.next]
		c.next++
	}
	return spec, c.expand(arg), true, poptOK
}

// expand is popt's expandNextArg: every "!#:+" in an option argument is
// replaced by the next argument that does not begin with '-', which is then
// skipped. ipvsadm never meant to have it, but popt gives it.
//
// With no such argument left, popt keeps "!#:+" as it is when argv is at
// its end, and loops forever when it is not ("-s '!#:+' -p"); that case is
// kept as it is here too.
func (c *poptContext) expand(arg string) string {
	if !c.bang || !strings.Contains(arg, "!#:+") {
		return arg
	}
	for i := c.next; i < len(c.args); i++ {
		if (c.taken != nil && c.taken[i]) || strings.HasPrefix(c.args[i], "-") {
			continue
		}
		if c.taken == nil {
			c.taken = make([]bool, len(c.args))
		}
		c.taken[i] = true
		return strings.ReplaceAll(arg, "!#:+", c.args[i])
	}
	return arg
}

// badOption is poptBadOption: the argv element popt looked at last, whole.
func (c *poptContext) badOption() string { return c.args[c.next-1] }

// nextLeftover is poptGetArg.
func (c *poptContext) nextLeftover() (string, bool) {
	if len(c.leftovers) == 0 {
		return "", false
	}
	s := c.leftovers[0]
	c.leftovers = c.leftovers[1:]
	return s, true
}

// Limits and defaults of ipvsadm 1.31.
const (
	// maxTimeout is 31 days, for -p and --set.
	maxTimeout = 86400 * 31
	// defaultPersistence is the -p timeout without a value,
	// IPVS_SVC_PERSISTENT_TIMEOUT: 360 s, not the 300 of the manual.
	defaultPersistence = 6 * 60
	defaultScheduler   = "wlc"
	defaultInterface   = "eth0"
	// maxWeight is the Debian binary's (the reference's) limit; upstream
	// 1.31 stops at 65535.
	maxWeight = 1<<31 - 1
	// nameMax and peNameMax are how many bytes of a scheduler, interface
	// or persistence-engine name ipvsadm copies (strncpy).
	nameMax   = 16 - 1
	peNameMax = 16
)

// A parser is ipvsadm's command entry while it is being parsed: the request
// as far as the options so far have set it, and what ipvsadm keeps beside
// it. It is meant to live on its caller's stack (see action).
type parser struct {
	req   request
	names Names
	// proto is the service's protocol for port names: TCP for a firewall
	// mark too, as ipvsadm sets it "to a sane value" (the service itself
	// has protocol 0 then, as the library wants for a mark), 0 before any
	// service.
	proto         ipvs.Protocol
	schedFlagsArg string // -b, parsed after the loop
}

// parseArgs parses one ipvsadm command line (args[0] is the program name,
// used in the "Try" line and the usage text) the way ipvsadm 1.31 with
// libpopt 1.19 does, applies every check in ipvsadm's order, and returns
// either a request ready to run or how the invocation ends: -h and -v
// (status 0), a fail() message (2), a popt error or the "Try" line (255).
//
// The request has every default applied: the scheduler wlc for -A and -E,
// the netmask /32 or /128, persistence 360 s for a bare -p, weight 1,
// forwarding -g, the real-server port forced to the service port for -g and
// -i on -a and -e, the interface eth0 for --start-daemon. It is the one
// allocation of a command line that parses.
func parseArgs(args []string, names Names) (*request, *exit) {
	prog := ""
	if len(args) > 0 {
		prog, args = args[0], args[1:]
	}
	p := parser{names: names}
	if ex := p.parse(prog, args); ex != nil {
		return nil, ex
	}
	req := p.req
	return &req, nil
}

// parse is parseArgs with the program name apart from the arguments: it
// fills p.req, p being a new parser with its names. A caller that keeps p
// on its stack, as ParseRule does for every restore line, parses a line
// with no allocation and no copy of its tokens.
func (p *parser) parse(prog string, args []string) *exit {
	nul, bang := argsHave(args)
	if nul {
		args = cStrings(args)
	}
	c := poptContext{args: args, bang: bang}
	p.req.command = cmdNone
	p.req.service.Netmask = 0xffffffff
	p.req.destination.Weight = 1
	p.req.destination.Forwarding = ipvs.Route

	// The first option must be a command (or -h, -v). The program name is
	// only in these messages, cut at a NUL as C sees it.
	spec, arg, _, perr := c.nextOption()
	if perr != poptOK || spec == nil {
		return tryHelp(cutNUL(prog))
	}
	switch spec.kind {
	case kindHelp:
		return &exit{stdout: usageText(cutNUL(prog))}
	case kindVersion:
		return &exit{stdout: versionText}
	case kindCommand:
		if msg := p.command(spec.cmd, arg); msg != "" {
			return failure(msg)
		}
	default:
		return tryHelp(cutNUL(prog))
	}
	if ex := p.options(&c); ex != nil {
		return ex
	}
	if msg := p.leftovers(&c); msg != "" {
		return failure(msg)
	}
	// -b is parsed after the loop, against the scheduler of the whole line,
	// and before the legality check: "-L -b foo" is an invalid flag.
	if p.schedFlagsArg != "" {
		flags, msg := parseSchedFlags(p.req.service.Scheduler, p.schedFlagsArg)
		if msg != "" {
			return failure(msg)
		}
		p.req.service.Flags = p.req.service.Flags&^(ipvs.FlagSched1|ipvs.FlagSched2|ipvs.FlagSched3) | flags
	}
	if msg := checkCommandOptions(p.req.command, p.req.options); msg != "" {
		return failure(msg)
	}
	if msg := p.check(); msg != "" {
		return failure(msg)
	}

	// Keep only what the command works on: no default netmask without a
	// service, no default weight without a server, no --syncid of -L.
	req := &p.req
	if !req.options.has(optServiceAddress) {
		req.service = ipvs.Service{}
	}
	if !req.options.has(optRealServer) {
		req.destination = ipvs.Destination{}
	}
	if req.command != cmdStartDaemon && req.command != cmdStopDaemon {
		req.daemon = ipvs.Daemon{}
	}
	return nil
}

// command sets the command of the first option; the daemon commands check
// their argument at once.
func (p *parser) command(cmd commandKind, arg string) string {
	p.req.command = cmd
	if cmd != cmdStartDaemon && cmd != cmdStopDaemon {
		return ""
	}
	switch arg {
	case "master":
		p.req.daemon.State = ipvs.Master
	case "backup":
		p.req.daemon.State = ipvs.Backup
	default:
		if cmd == cmdStartDaemon {
			return "illegal start-daemon parameter specified"
		}
		return "illegal start_daemon specified"
	}
	return ""
}

// options processes the options after the command, in command-line order:
// the first error, popt's or ipvsadm's, ends the invocation.
func (p *parser) options(c *poptContext) *exit {
	for {
		spec, arg, hasArg, perr := c.nextOption()
		if perr != poptOK {
			return &exit{status: 255, stderr: c.badOption() + ": " + perr.String() + "\n", lineFails: true}
		}
		if spec == nil {
			return nil
		}
		switch spec.kind {
		case kindOption:
			if p.req.options.has(spec.bit) {
				return failure("multiple '" + spec.bit.String() + "' options specified")
			}
			p.req.options |= 1 << spec.bit
		case kindPlain:
		default:
			// A second command: the message "multiple commands
			// specified" of ipvsadm is never reached.
			return failure("invalid option `" + c.badOption() + "'")
		}
		if msg := p.act(spec.act, arg, hasArg); msg != "" {
			return failure(msg)
		}
	}
}

// leftovers takes --set's three timeouts from the non-option arguments;
// any other is unexpected.
func (p *parser) leftovers(c *poptContext) string {
	if p.req.command == cmdSetTimeouts {
		tcp, ok1 := c.nextLeftover()
		fin, ok2 := c.nextLeftover()
		udp, ok3 := c.nextLeftover()
		if !ok1 || !ok2 || !ok3 {
			return "--set option requires 3 timeout values"
		}
		t := &p.req.timeouts
		for _, v := range [...]struct {
			arg string
			to  *time.Duration
		}{{tcp, &t.TCP}, {fin, &t.TCPFin}, {udp, &t.UDP}} {
			n, ok := stringToNumber(v.arg, 0, maxTimeout)
			if !ok {
				return "invalid timeout value `" + v.arg + "' specified"
			}
			*v.to = time.Duration(n) * time.Second
		}
	}
	if s, ok := c.nextLeftover(); ok {
		return "unexpected argument " + s
	}
	return ""
}

// argsHave reports whether the arguments have a NUL byte and a '!'. A
// restore line has neither, and one look at its bytes saves cutting every
// argument (cStrings) and searching every option argument for "!#:+".
func argsHave(args []string) (nul, bang bool) {
	for _, a := range args {
		for i := 0; i < len(a); i++ {
			// One comparison for the bytes that are neither.
			if c := a[i]; c <= '!' {
				nul = nul || c == 0
				bang = bang || c == '!'
			}
		}
	}
	return nul, bang
}

// cStrings cuts every argument at its first NUL byte, as C sees it.
func cStrings(args []string) []string {
	c := make([]string, len(args))
	for i, a := range args {
		c[i] = cutNUL(a)
	}
	return c
}

// cutNUL cuts s at its first NUL byte.
func cutNUL(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// failure is ipvsadm's fail(2, ...): the message and a newline on stderr,
// exit status 2.
func failure(msg string) *exit {
	return &exit{status: 2, stderr: msg + "\n"}
}

// truncate is strncpy into ipvsadm's fixed-size name fields.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// act does what an option does with its argument (hasArg false for a -p
// without one): the case of process_options for it.
func (p *parser) act(a action, arg string, hasArg bool) string {
	switch a {
	case actTCPService:
		return p.addressService(ipvs.TCP, arg)
	case actUDPService:
		return p.addressService(ipvs.UDP, arg)
	case actSCTPService:
		return p.addressService(ipvs.SCTP, arg)
	case actFwmarkService:
		return p.fwmarkService(arg)
	case actScheduler:
		return p.scheduler(arg)
	case actPersistent:
		return p.persistent(arg, hasArg)
	case actNetmask:
		return p.netmask(arg)
	case actRealServer:
		return p.realServer(arg)
	case actMasquerading:
		return p.forwarding(ipvs.Masquerade)
	case actIPIP:
		return p.forwarding(ipvs.Tunnel)
	case actGatewaying:
		return p.forwarding(ipvs.Route)
	case actWeight:
		return p.weight(arg)
	case actUThreshold:
		return p.upperThreshold(arg)
	case actLThreshold:
		return p.lowerThreshold(arg)
	case actMcastInterface:
		return p.mcastInterface(arg)
	case actSyncID:
		return p.syncID(arg)
	case actIPv6:
		return p.ipv6()
	case actOnePacket:
		return p.onePacket()
	case actPE:
		return p.persistenceEngine(arg)
	case actSchedFlags:
		return p.schedFlags(arg)
	case actMcastGroup:
		return p.mcastGroup(arg)
	case actMcastPort:
		return p.mcastPort(arg)
	case actMcastTTL:
		return p.mcastTTL(arg)
	case actSyncMaxlen:
		return p.syncMaxlen(arg)
	case actTunType:
		return p.tunnelType(arg)
	case actTunPort:
		return p.tunnelPort(arg)
	case actTunCsum:
		return p.tunnelFlag(ipvs.TunnelChecksum)
	case actTunRemCsum:
		return p.tunnelFlag(ipvs.TunnelRemoteChecksum)
	}
	return ""
}

// addressService is -t, -u and --sctp-service.
func (p *parser) addressService(proto ipvs.Protocol, arg string) string {
	p.proto = proto
	p.req.service.Protocol = proto
	e, ok := parseService(arg, proto, p.names)
	if !ok {
		return "illegal virtual server address[:port] specified"
	}
	p.req.service.Address = e.addr
	if e.hasPort {
		p.req.service.Port = e.port
	}
	p.req.service.Family = ipvs.IPv4
	if e.addr.Is6() {
		p.req.service.Family = ipvs.IPv6
		p.req.service.Netmask = 128
	}
	return ""
}

func (p *parser) fwmarkService(arg string) string {
	p.req.service.Family = ipvs.IPv4
	p.proto = ipvs.TCP
	mark, ok := parseFwmark(arg)
	if !ok {
		return "invalid fwmark value `" + arg + "' specified"
	}
	p.req.service.FirewallMark = mark
	return ""
}

func (p *parser) scheduler(arg string) string {
	p.req.service.Scheduler = truncate(arg, nameMax)
	return ""
}

func (p *parser) persistent(arg string, hasArg bool) string {
	p.req.service.Flags |= ipvs.FlagPersistent
	if !hasArg {
		p.req.service.Timeout = defaultPersistence
		return ""
	}
	n, ok := stringToNumber(arg, 1, maxTimeout)
	if !ok {
		return "invalid timeout value `" + arg + "' specified"
	}
	p.req.service.Timeout = uint32(n)
	return ""
}

// netmask is -M: an IPv4 mask unless the service is IPv6 so far, then a
// prefix length read with atoi (so "-M 255.255.255.0" is 255 and refused,
// and "-M 64x" is 64).
func (p *parser) netmask(arg string) string {
	if p.req.service.Family != ipvs.IPv6 {
		m, ok := parseNetmask(arg, p.names)
		if !ok {
			return "illegal virtual server persistent mask specified"
		}
		p.req.service.Netmask = m
		return ""
	}
	n := uint32(atoi(arg))
	if n < 1 || n > 128 {
		return "illegal ipv6 netmask specified"
	}
	p.req.service.Netmask = ipvs.Netmask(n)
	return ""
}

// realServer is -r, read against the service as far as it is known: its
// protocol names the port, its port is the default. So a -r before the
// service gets port 0 and cannot use a port name.
func (p *parser) realServer(arg string) string {
	e, ok := parseService(arg, p.proto, p.names)
	if !ok {
		return "illegal real server address[:port] specified"
	}
	p.req.destination.Address = e.addr
	p.req.destination.Family = ipvs.IPv4
	if e.addr.Is6() {
		p.req.destination.Family = ipvs.IPv6
	}
	p.req.destination.Port = p.req.service.Port
	if e.hasPort {
		p.req.destination.Port = e.port
	}
	return ""
}

func (p *parser) forwarding(f ipvs.Forwarding) string {
	p.req.destination.Forwarding = f
	return ""
}

func (p *parser) weight(arg string) string {
	n, ok := stringToNumber(arg, 0, maxWeight)
	if !ok {
		return "illegal weight specified"
	}
	p.req.destination.Weight = int32(n)
	return ""
}

func (p *parser) upperThreshold(arg string) string {
	n, ok := stringToNumber(arg, 0, 1<<31-1)
	if !ok {
		return "illegal u_threshold specified"
	}
	p.req.destination.UpperThreshold = uint32(n)
	return ""
}

func (p *parser) lowerThreshold(arg string) string {
	n, ok := stringToNumber(arg, 0, 1<<31-1)
	if !ok {
		return "illegal l_threshold specified"
	}
	p.req.destination.LowerThreshold = uint32(n)
	return ""
}

func (p *parser) mcastInterface(arg string) string {
	p.req.daemon.Interface = truncate(arg, nameMax)
	return ""
}

func (p *parser) syncID(arg string) string {
	n, ok := stringToNumber(arg, 0, 255)
	if !ok {
		return "illegal syncid specified"
	}
	p.req.daemon.SyncID = uint32(n)
	return ""
}

// ipv6 is -6, which makes a firewall mark given before it IPv6, and its
// netmask 128 even after a -M.
func (p *parser) ipv6() string {
	if p.req.service.FirewallMark == 0 {
		// The message ends with a newline of its own, so an empty
		// line follows it.
		return "-6 used before -f\n"
	}
	p.req.service.Family = ipvs.IPv6
	p.req.service.Netmask = 128
	return ""
}

func (p *parser) onePacket() string {
	p.req.service.Flags |= ipvs.FlagOnePacket
	return ""
}

func (p *parser) persistenceEngine(arg string) string {
	p.req.service.PersistenceEngine = truncate(arg, peNameMax)
	return ""
}

func (p *parser) schedFlags(arg string) string {
	p.schedFlagsArg = truncate(arg, schedFlagsMax)
	return ""
}

func (p *parser) mcastGroup(arg string) string {
	g, msg := parseMcastGroup(arg)
	p.req.daemon.Group = g
	return msg
}

func (p *parser) mcastPort(arg string) string {
	n, ok := stringToNumber(arg, 1, 65535)
	if !ok {
		return "illegal mcast-port specified"
	}
	p.req.daemon.Port = uint16(n)
	return ""
}

func (p *parser) mcastTTL(arg string) string {
	n, ok := stringToNumber(arg, 1, 255)
	if !ok {
		return "illegal mcast-ttl specified"
	}
	p.req.daemon.TTL = uint8(n)
	return ""
}

// syncMaxlen is --sync-maxlen, at most a UDP payload: 65535-20-8.
func (p *parser) syncMaxlen(arg string) string {
	n, ok := stringToNumber(arg, 1, 65535-20-8)
	if !ok {
		return "illegal sync-maxlen specified"
	}
	p.req.daemon.MaxLength = uint16(n)
	return ""
}

func (p *parser) tunnelType(arg string) string {
	t, ok := parseTunnelType(arg)
	if !ok {
		return "illegal tunnel type specified"
	}
	p.req.destination.TunnelType = t
	return ""
}

func (p *parser) tunnelPort(arg string) string {
	n, ok := stringToNumber(arg, 1, 65535)
	if !ok {
		return "illegal tunnel port specified"
	}
	p.req.destination.TunnelPort = uint16(n)
	return ""
}

func (p *parser) tunnelFlag(f ipvs.TunnelFlags) string {
	p.req.destination.TunnelFlags |= f
	return ""
}

func optionSetOf(bits ...optionBit) optionSet {
	var s optionSet
	for _, b := range bits {
		s |= 1 << b
	}
	return s
}

// An optionRule is one row of ipvsadm's legality matrix: the options a
// command needs, those it allows, and those of which it allows only one.
// Every other option is illegal with it.
type optionRule struct {
	required, optional, oneOf optionSet
}

var (
	serviceOptions = optionSetOf(optScheduler, optPersistent, optNetmask, optOps, optPE, optSchedFlags)
	serverOptions  = optionSetOf(optForwardingMethod, optWeight, optUThreshold, optLThreshold,
		optTunType, optTunPort, optTunNoCsum, optTunCsum, optTunRemCsum)
)

// commandRules is ipvsadm's commands_v_options.
var commandRules = [...]optionRule{
	cmdAddService:    {required: optionSetOf(optServiceAddress), optional: serviceOptions},
	cmdEditService:   {required: optionSetOf(optServiceAddress), optional: serviceOptions},
	cmdDeleteService: {required: optionSetOf(optServiceAddress)},
	cmdFlush:         {},
	cmdList: {
		optional: optionSetOf(optNumeric, optStats, optRate, optThresholds, optPersistentConn,
			optNoSort, optSyncID, optExact, optTunInfo),
		oneOf: optionSetOf(optConnection, optServiceAddress, optTimeout, optDaemon),
	},
	cmdAddServer:    {required: optionSetOf(optServiceAddress, optRealServer), optional: serverOptions},
	cmdDeleteServer: {required: optionSetOf(optServiceAddress, optRealServer)},
	cmdEditServer:   {required: optionSetOf(optServiceAddress, optRealServer), optional: serverOptions},
	cmdSetTimeouts:  {},
	cmdStartDaemon: {optional: optionSetOf(optMcastInterface, optSyncID, optMcastGroup, optMcastPort,
		optMcastTTL, optSyncMaxlen)},
	cmdStopDaemon: {optional: optionSetOf(optSyncID)},
	cmdRestore:    {},
	cmdSave:       {optional: optionSetOf(optNumeric)},
	cmdZero:       {optional: optionSetOf(optServiceAddress)},
}

// checkRule is ipvsadm's generic_opt_check and tunnel_opt_check over the
// options in checked: they are checked in bit order and the first failure
// is reported; of the oneOf options, the second present names the first.
// what is "command" or "tunnel type", name the command's or the tunnel
// type's.
func checkRule(r optionRule, options, checked optionSet, what, name string) string {
	// The sets tell at once whether the options pass, as those of nearly
	// every line do; the walk in order is for the message.
	present := options & checked
	if r.required&checked&^present == 0 && present&^(r.required|r.optional|r.oneOf) == 0 &&
		bits.OnesCount64(uint64(present&r.oneOf)) <= 1 {
		return ""
	}
	first := optionBit(0)
	seen := false
	for b := optionBit(0); b < numOptions; b++ {
		if !checked.has(b) {
			continue
		}
		switch {
		case !options.has(b):
			if r.required.has(b) {
				return "You need to supply the '" + b.String() + "' option for the '" + name + "' " + what
			}
		case r.oneOf.has(b):
			if seen {
				return "The option '" + b.String() + "' conflicts with the '" + first.String() +
					"' option in the '" + name + "' " + what
			}
			first, seen = b, true
		case !r.required.has(b) && !r.optional.has(b):
			return "Illegal '" + b.String() + "' option with the '" + name + "' " + what
		}
	}
	return ""
}

// allOptions are the option bits 0 to 33.
const allOptions = optionSet(1)<<numOptions - 1

func checkCommandOptions(cmd commandKind, options optionSet) string {
	return checkRule(commandRules[cmd], options, allOptions, "command", cmd.String())
}

// tunnelOptions are the options of tunnel_opt_check; its order is their
// bit order.
var tunnelOptions = optionSetOf(optTunPort, optTunNoCsum, optTunCsum, optTunRemCsum)

// tunnelOptionSet is every tunnel option, --tun-type included.
var tunnelOptionSet = optionSetOf(optTunType, optTunPort, optTunNoCsum, optTunCsum, optTunRemCsum)

// The list command's other conflicts: the tables -L can show besides
// services, and the statistics only services have.
var (
	listTables     = optionSetOf(optConnection, optTimeout, optDaemon)
	listStatistics = optionSetOf(optStats, optRate, optThresholds)
)

// tunnelRules is ipvsadm's tunnel_types_v_options: nothing for ipip, a port
// and one checksum option for gue, one of two checksum options for gre.
var tunnelRules = [...]optionRule{
	ipvs.IPIP: {},
	ipvs.GUE:  {required: optionSetOf(optTunPort), oneOf: optionSetOf(optTunNoCsum, optTunCsum, optTunRemCsum)},
	ipvs.GRE:  {oneOf: optionSetOf(optTunNoCsum, optTunCsum)},
}

// check is what ipvsadm's process_options does after the legality matrix,
// and the defaults it applies there.
func (p *parser) check() string {
	switch p.req.command {
	case cmdAddService, cmdEditService:
		s := &p.req.service
		if s.FirewallMark == 0 && s.Port == 0 && s.Flags&ipvs.FlagPersistent == 0 {
			return "Zero port specified for non-persistent service"
		}
		if s.Flags&ipvs.FlagOnePacket != 0 && s.FirewallMark == 0 && p.proto != ipvs.UDP {
			return "One-Packet Scheduling is only for UDP virtual services"
		}
		if s.Scheduler == "" {
			s.Scheduler = defaultScheduler
		}
	case cmdStartDaemon:
		if p.req.daemon.Interface == "" {
			p.req.daemon.Interface = defaultInterface
		}
	case cmdAddServer, cmdEditServer:
		d := &p.req.destination
		// Direct routing and tunnels cannot change the port: the
		// real server's is the service's, whatever -r said.
		if p.req.service.FirewallMark == 0 && (d.Forwarding == ipvs.Tunnel || d.Forwarding == ipvs.Route) {
			d.Port = p.req.service.Port
		}
		if d.Family != p.req.service.Family && d.Forwarding != ipvs.Tunnel {
			return "Different address family is allowed only for tunneling servers"
		}
		if p.req.options&tunnelOptionSet != 0 && d.Forwarding != ipvs.Tunnel {
			return "Tunnel options conflict with forward method"
		}
		t := d.TunnelType
		return checkRule(tunnelRules[t], p.req.options, tunnelOptions, "tunnel type", t.String())
	case cmdList:
		// Connections, timeouts and daemons have no statistics, and
		// the last two no persistent connections.
		o := p.req.options
		if o&listTables != 0 && o&listStatistics != 0 || o&listTables&^optionSetOf(optConnection) != 0 && o.has(optPersistentConn) {
			return "options conflicts in the list command"
		}
	}
	return ""
}

// tryHelp is the line ipvsadm prints when its first option is not a
// command.
func tryHelp(argv0 string) *exit {
	return &exit{status: 255, stderr: "Try `" + argv0 + " -h' or '" + argv0 + " --help' for more information.\n"}
}
