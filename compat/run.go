package compat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"strings"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// minimumVersion is the oldest kernel IPVS ipvsadm 1.31 works with, 1.1.4.
const minimumVersion = 0x010104

// Main runs one ipvsadm invocation in env and returns its exit status.
func Main(env Env) int {
	r := &runner{env: env, out: bufio.NewWriter(env.Stdout)}
	defer r.out.Flush()
	return r.main()
}

// A runner is one ipvsadm process: its streams, and the IPVS client it
// opens once.
type runner struct {
	env    Env
	out    *bufio.Writer
	client *ipvs.Client
	info   ipvs.Info
}

func (r *runner) main() int {
	args := r.env.Args
	var req *request
	var ex *exit
	if len(args) > 1 {
		req, ex = parseArgs(args, r.env.Names)
		// ipvsadm 1.31 initialises IPVS before it looks at its arguments,
		// so -h and -v fail on a host without IPVS; they need no kernel
		// here (a difference the README lists).
		if ex != nil && ex.status == 0 {
			return r.end(ex)
		}
	}
	if status, ok := r.init(); !ok {
		return status
	}
	defer r.client.Close()

	if len(args) == 1 {
		// No arguments at all lists the table, with names.
		status, _ := r.list(&request{command: cmdList})
		return status
	}
	if ex != nil {
		return r.end(ex)
	}
	status, _ := r.run(req, false)
	return status
}

// Open opens the IPVS client as ipvsadm does when it starts: it loads the
// module once if IPVS is missing, and prints ipvsadm's messages. It returns
// the client, or nil and ipvsadm's exit status.
func Open(env Env) (*ipvs.Client, int) {
	r := &runner{env: env}
	if status, ok := r.init(); !ok {
		return nil, status
	}
	return r.client, 0
}

// init is ipvs_init, with ipvsadm's one modprobe and retry.
func (r *runner) init() (int, bool) {
	err := r.dial()
	if err != nil && r.env.Modprobe != nil && r.env.Modprobe() == nil {
		err = r.dial()
	}
	if err != nil {
		fmt.Fprintf(r.env.Stderr, "Can't initialize ipvs: %s\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
			kernelMessage(funcGeneric, err))
		return 2, false
	}
	if r.info.Version < minimumVersion {
		v := r.info.Version
		fmt.Fprintf(r.env.Stderr, "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version %d.%d.%d\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n",
			v>>16&0xff, v>>8&0xff, v&0xff)
	}
	return 0, true
}

func (r *runner) dial() error {
	c, err := r.env.Dial()
	if err != nil {
		return err
	}
	info, err := c.Info()
	if err != nil {
		c.Close()
		return err
	}
	r.client, r.info = c, info
	return nil
}

// end prints what an early exit says and returns its status.
func (r *runner) end(ex *exit) int {
	r.out.WriteString(ex.stdout)
	if ex.stderr != "" {
		r.out.Flush()
		io.WriteString(r.env.Stderr, ex.stderr)
	}
	return ex.status
}

// fail prints a kernel error as ipvsadm words it and returns status.
func (r *runner) fail(fn libipvsFunc, err error, status int) int {
	r.out.Flush()
	io.WriteString(r.env.Stderr, kernelMessage(fn, err)+"\n")
	return status
}

// run carries out a parsed command. It returns the exit status, and
// whether ipvsadm would exit at once (as a failed listing does, even in
// the middle of a restore).
func (r *runner) run(req *request, restoring bool) (status int, exits bool) {
	if op, fn, ok := writeOf(req); ok {
		return r.write(fn, applyOne(r.client, op)), false
	}
	switch req.command {
	case cmdList:
		return r.list(req)
	case cmdSave:
		return r.save(req)
	case cmdRestore:
		if restoring {
			// A nested -R is not a command of a restore line.
			return r.end(tryHelp(r.env.Args[0])), true
		}
		return r.restore(), true
	}
	panic(fmt.Sprintf("compat: command %v has no runner", req.command))
}

// writeOf returns the write a command makes, and the libipvs function
// whose messages report its failure; false for a command that reads.
func writeOf(req *request) (ipvs.Op, libipvsFunc, bool) {
	switch req.command {
	case cmdAddService:
		return ipvs.Op{Command: ipvs.CmdNewService, Service: req.service}, funcAddService, true
	case cmdEditService:
		return ipvs.Op{Command: ipvs.CmdSetService, Service: req.service}, funcUpdateService, true
	case cmdDeleteService:
		return ipvs.Op{Command: ipvs.CmdDelService, Service: req.service}, funcDelService, true
	case cmdAddServer:
		return ipvs.Op{Command: ipvs.CmdNewDestination, Service: req.service, Destination: req.destination}, funcAddDest, true
	case cmdEditServer:
		return ipvs.Op{Command: ipvs.CmdSetDestination, Service: req.service, Destination: req.destination}, funcUpdateDest, true
	case cmdDeleteServer:
		return ipvs.Op{Command: ipvs.CmdDelDestination, Service: req.service, Destination: req.destination}, funcDelDest, true
	case cmdFlush:
		return ipvs.Op{Command: ipvs.CmdFlush}, funcGeneric, true
	case cmdZero:
		if zeroesOneService(req) {
			return ipvs.Op{Command: ipvs.CmdZero, Service: req.service}, funcZeroService, true
		}
		return ipvs.Op{Command: ipvs.CmdZero}, funcZeroService, true
	case cmdSetTimeouts:
		return ipvs.Op{Command: ipvs.CmdSetConfig, Timeouts: req.timeouts}, funcGeneric, true
	case cmdStartDaemon:
		return ipvs.Op{Command: ipvs.CmdNewDaemon, Daemon: req.daemon}, funcStartDaemon, true
	case cmdStopDaemon:
		return ipvs.Op{Command: ipvs.CmdDelDaemon, Daemon: ipvs.Daemon{State: req.daemon.State}}, funcStopDaemon, true
	}
	return ipvs.Op{}, 0, false
}

// applyOne makes one write and returns its outcome.
func applyOne(c *ipvs.Client, op ipvs.Op) error {
	var result error
	if err := c.Apply([]ipvs.Op{op}, func(_ int, err error) bool {
		result = err
		return true
	}); err != nil {
		return err
	}
	return result
}

// write reports a modifying command's outcome: a kernel error is printed
// and is exit status 255 (ipvsadm's exit(-1)).
func (r *runner) write(fn libipvsFunc, err error) int {
	if err != nil {
		return r.fail(fn, err, 255)
	}
	return 0
}

// zeroesOneService tells -Z of one service from -Z of all: ipvsadm sends a
// service only when it has a mark, an address or a port, so -Z -t
// 0.0.0.0:0 zeroes everything.
func zeroesOneService(req *request) bool {
	if !req.options.has(optServiceAddress) {
		return false
	}
	s := req.service
	return s.FirewallMark != 0 || s.Port != 0 || (s.Address.IsValid() && !s.Address.IsUnspecified())
}

// list runs -L in its forms. Every failure is exit status 1.
func (r *runner) list(req *request) (int, bool) {
	f := listFormatOf(req.options)
	c := r.client
	switch {
	case req.options.has(optConnection):
		return r.listConnections(f)
	case req.options.has(optTimeout):
		t, err := c.Timeouts()
		if err != nil {
			return 1, true
		}
		writeTimeouts(r.out, t)
		return 0, false
	case req.options.has(optDaemon):
		daemons, err := c.Daemons()
		if err != nil {
			return 1, true
		}
		writeDaemons(r.out, daemons)
		return 0, false
	case req.options.has(optServiceAddress):
		s, err := c.Service(req.service)
		if err != nil {
			return r.fail(funcGetService, err, 1), true
		}
		dests, err := c.Destinations(s.Service)
		if err != nil {
			return r.fail(funcGetDests, err, 1), true
		}
		if err := writeServices(r.out, []serviceTable{{service: s, dests: dests}}, f, r.env.Names); err != nil {
			return 1, true
		}
		return 0, false
	}
	writeVersionHeader(r.out, r.info)
	rows, err := kernelRows(r.client, !f.nosort)
	if err != nil {
		return r.fail(funcGeneric, err, 1), true
	}
	if err := writeServiceRows(r.out, rows, f, r.env.Names); err != nil {
		return r.readFailure(err), true
	}
	return 0, false
}

func (r *runner) save(req *request) (int, bool) {
	rows, err := kernelRows(r.client, true)
	if err != nil {
		return r.fail(funcGeneric, err, 1), true
	}
	if err := writeSaveRows(r.out, rows, req.options.has(optNumeric), r.env.Names); err != nil {
		return r.readFailure(err), true
	}
	return 0, false
}

// readFailure is the exit status of a listing that failed: ipvsadm prints
// why it could not get a service's destinations; a listing it could not
// write fails quietly.
func (r *runner) readFailure(err error) int {
	var de destinationsError
	if errors.As(err, &de) {
		return r.fail(funcGetDests, de.err, 1)
	}
	return 1
}

func (r *runner) listConnections(f listFormat) (int, bool) {
	var conns io.ReadCloser
	var err error
	if r.env.OpenConnections != nil {
		conns, err = r.env.OpenConnections()
	}
	if conns == nil || err != nil {
		r.out.Flush()
		io.WriteString(r.env.Stderr, "cannot open file "+procConnections+"\n")
		return 1, true
	}
	defer conns.Close()
	status, stderr := writeConnections(r.out, conns, f, r.env.Names)
	if stderr != "" {
		r.out.Flush()
		io.WriteString(r.env.Stderr, stderr)
	}
	return status, status != 0
}

// procConnections is where the kernel lists IPVS connections.
const procConnections = "/proc/net/ip_vs_conn"

// SaveMain runs ipvsadm-save in env, as the 1.31 wrapper script does: -n for
// numeric output, any other option draws its help on stderr and status 1,
// other arguments are ignored.
func SaveMain(env Env) int {
	args := []string{"ipvsadm", "-S"}
	numeric := false
	for _, a := range env.Args[1:] {
		switch {
		case a == "-n":
			numeric = true
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(env.Stderr, "%s: Script to save the IPVS table to stdout.\n   With the -n option, prints out the table in numeric format.\n",
				path.Base(env.Args[0]))
			return 1
		}
	}
	if numeric {
		args = append(args, "-n")
	}
	env.Args = args
	return Main(env)
}

// RestoreMain runs ipvsadm-restore in env, as the 1.31 wrapper script does:
// it drops the lines of standard input that begin with '#', clears the
// table, and restores the rest with ipvsadm -R, whose status it returns.
func RestoreMain(env Env) int {
	input, err := io.ReadAll(env.Stdin)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", path.Base(env.Args[0]), err)
		return 1
	}
	if bytes.IndexByte(input, 0) >= 0 {
		// The wrapper reads its input with a command substitution, and
		// bash drops NUL bytes from that, with a warning.
		fmt.Fprintf(env.Stderr, "%s: line 23: warning: command substitution: ignored null byte in input\n", scriptPath(env.Args[0]))
		input = bytes.ReplaceAll(input, []byte{0}, nil)
	}
	clear := env
	clear.Args = []string{"ipvsadm", "-C"}
	clear.Stdin = strings.NewReader("")
	Main(clear)

	env.Args = []string{"ipvsadm", "-R"}
	env.Stdin = strings.NewReader(uncommented(string(input)))
	return Main(env)
}

// scriptPath is the $0 bash gives a script run as name: the path it was
// found at.
func scriptPath(name string) string {
	if !strings.Contains(name, "/") {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return name
}

// uncommented is what `echo "$(grep -v '^#')"` makes of the input: the
// lines that do not begin with '#', trailing newlines cut, one added.
func uncommented(input string) string {
	var b strings.Builder
	for len(input) > 0 {
		line, rest, _ := strings.Cut(input, "\n")
		input = rest
		if !strings.HasPrefix(line, "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
