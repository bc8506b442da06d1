package compat

import (
	"bufio"
	"io"
	"math/bits"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// This file lends unexported parts of compat to its external tests: the
// fuzz tests live in package compat_test because they seed from the golden
// scenarios through internal/testenv, which imports compat.

// A ParseOutcome is how parseArgs ends on a command line: the request
// (Parsed), or the exit, in fields an external test can read.
type ParseOutcome struct {
	Parsed      bool
	Command     string   // the request's command, as ipvsadm's messages name it
	Options     []string // the request's option bits, as ipvsadm names them
	Service     ipvs.Service
	Destination ipvs.Destination
	Daemon      ipvs.Daemon
	Timeouts    ipvs.Timeouts

	Status         int
	Stdout, Stderr string
	LineFails      bool
}

// ParseArgs runs parseArgs on args (args[0] is the program name).
func ParseArgs(args []string, names Names) ParseOutcome {
	req, ex := parseArgs(args, names)
	if ex != nil {
		if req != nil {
			panic("parseArgs returned both a request and an exit")
		}
		return ParseOutcome{Status: ex.status, Stdout: ex.stdout, Stderr: ex.stderr, LineFails: ex.lineFails}
	}
	if req == nil {
		panic("parseArgs returned neither a request nor an exit")
	}
	var options []string
	for s := uint64(req.options); s != 0; s &= s - 1 {
		options = append(options, optionBit(bits.TrailingZeros64(s)).String())
	}
	return ParseOutcome{
		Parsed:      true,
		Command:     req.command.String(),
		Options:     options,
		Service:     req.service,
		Destination: req.destination,
		Daemon:      req.daemon,
		Timeouts:    req.timeouts,
	}
}

// WriteConnections runs writeConnections as -L -c with -n when numeric and
// --persistent-conn when persistentConn, and flushes what it wrote to w.
func WriteConnections(w io.Writer, conns io.Reader, numeric, persistentConn bool, names Names) (status int, stderr string) {
	opts := optionSetOf(optConnection)
	if numeric {
		opts |= optionSetOf(optNumeric)
	}
	if persistentConn {
		opts |= optionSetOf(optPersistentConn)
	}
	bw := bufio.NewWriter(w)
	status, stderr = writeConnections(bw, conns, listFormatOf(opts), names)
	bw.Flush()
	return status, stderr
}

// ConnLineMax is how many bytes of a line of the connection table one
// fgets reads.
const ConnLineMax = connLineMax

// SampleConnections is the /proc/net/ip_vs_conn of §10.2 of the reference.
const SampleConnections = sampleConnections

// ErrorCatalogue is the command lines of §10.3 of the reference (after the
// program name), as TestParseArgsErrorCatalogue holds them.
func ErrorCatalogue() []string {
	lines := make([]string, len(errorCatalogue))
	for i, o := range errorCatalogue {
		lines[i] = o.args
	}
	return lines
}
