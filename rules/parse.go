package rules

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// An Error is a line of the input that cannot be restored, or a write the
// kernel refused. Message and Status are what ipvsadm prints for it and
// exits with; Err is the cause: a *compat.Failure, compat.ErrNotRule, or an
// *ipvs.Error with the kernel's errno.
type Error struct {
	Line    int    // counting from 1; 0 when no line asked for the write
	Text    string // the line, or the write as a command line
	Message string // ipvsadm's words, without a newline
	Status  int    // ipvsadm's exit status for it
	Err     error
	// Rollback, for a refused write of Plan.Apply, is nil when every
	// write made before was undone, or else what could not be.
	Rollback error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s", e.Text, e.Message)
	if e.Line != 0 {
		s = fmt.Sprintf("line %d: %s", e.Line, s)
	}
	if e.Rollback != nil {
		s += "; rolling back failed: " + e.Rollback.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// maxLine bounds a line: ipvsadm reads tokens of up to 4096 bytes, and
// no valid line comes near 64 KiB. A line of maxLine bytes or more, not
// counting its newline, is refused as bufio.Scanner with a buffer of
// maxLine refused it.
const maxLine = 64 << 10

// Parse reads restore input, the lines ipvsadm -R takes after the
// ipvsadm-restore wrapper has dropped those that begin with '#', and returns
// the Set they build from an empty table. Blank lines are skipped; the word
// "ipvsadm" is dropped wherever it stands, as -R does. Lines are -A, -E, -D,
// -a, -e, -d and -C; every other command, and every line ipvsadm would
// refuse, is an *Error naming the line. So is a line the kernel is certain
// to refuse given the lines before it: a service added twice, a destination
// of a service that does not exist, and the like.
//
// names resolves host and service names as ipvsadm does; nil allows only
// numeric addresses and ports. Parse asks it from the calling goroutine
// only, and only for the lines up to the first refused one, in order.
//
// Parse reads all of r before it parses a line. A read error other than
// io.EOF is returned as it is, after the lines read before it are parsed.
func Parse(r io.Reader, names compat.Names) (*Set, error) {
	if names == nil {
		names = compat.FileNames(nil, nil)
	}
	input, readErr := readInput(r)
	set, err := parseInput(input, names, runtime.GOMAXPROCS(0), chunkBytes)
	if err != nil {
		return nil, err
	}
	if readErr != nil {
		return nil, readErr
	}
	return set, nil
}

// readInput reads all of r into one string, whose lines are then parsed
// where they lie instead of each being copied out.
func readInput(r io.Reader) (string, error) {
	var b strings.Builder
	if sized, ok := r.(interface {
		io.WriterTo
		Len() int
	}); ok {
		// strings.Reader, bytes.Reader and bytes.Buffer: one
		// allocation of the right size, one copy.
		b.Grow(sized.Len())
		_, err := sized.WriteTo(&b)
		return b.String(), err
	}
	buf := make([]byte, 32<<10)
	for empty := 0; ; {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		switch {
		case err == io.EOF:
			return b.String(), nil
		case err != nil:
			return b.String(), err
		case n > 0:
			empty = 0
		default:
			// As bufio.Scanner gives up on a reader that returns
			// nothing, and no error, again and again.
			if empty++; empty > 100 {
				return b.String(), io.ErrNoProgress
			}
		}
	}
}

// parseInput parses input, parsing its lines' grammar on up to workers
// goroutines in chunks of about chunk bytes when it is long enough for
// that to pay.
func parseInput(input string, names compat.Names, workers, chunk int) (*Set, error) {
	services, dests := countAdds(input)
	b := newBuilder(services, dests)
	var err error
	if workers > 1 && len(input) > 2*chunk {
		err = parseAhead(input, names, b, workers, chunk)
	} else {
		err = parseLines(input, names, b)
	}
	if err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// countAdds counts the lines that begin with -A and -a: the services and
// destinations a saved table adds, so that the builder has room for them
// from the start. Other spellings (--add-service, "ipvsadm -A", options
// before the command) only make the builder grow as it goes.
func countAdds(input string) (services, dests int) {
	for rest := input; rest != ""; {
		var line string
		line, rest = cutLine(rest)
		if len(line) >= 2 && line[0] == '-' {
			switch line[1] {
			case 'A':
				services++
			case 'a':
				dests++
			}
		}
	}
	return services, dests
}

// cutLine cuts the first line off s: the bytes before the first newline,
// or all of s if it has none.
func cutLine(s string) (line, rest string) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// parseRule is the grammar of a line; tests replace it.
var parseRule = compat.ParseRule

// parseLines parses input line by line into b.
func parseLines(input string, names compat.Names, b *builder) error {
	s := lineScanner{rest: input}
	for s.next() {
		if s.tooLong {
			return tooLong(s.line)
		}
		op, err := parseRule(s.tokens, names)
		if err := b.take(s.line, s.text, &op, err); err != nil {
			return err
		}
	}
	return nil
}

// A lineScanner walks restore text by the lines that hold a rule, the one
// place that numbers lines, skips blanks and comments and refuses a line
// too long: the sequential parse and the parse ahead both read through it.
type lineScanner struct {
	rest    string   // the text after the current line
	line    int      // the current line's number; start it at the one before the text's first
	text    string   // the current line, without its carriage return
	tokens  []string // the current line's tokens, in one slice reused line after line
	tooLong bool     // the current line is maxLine bytes or more; the scan stops there
}

// next moves to the next line with tokens, or to a line too long; false at
// the end of the text.
func (s *lineScanner) next() bool {
	for s.rest != "" && !s.tooLong {
		var raw string
		raw, s.rest = cutLine(s.rest)
		s.line++
		if len(raw) >= maxLine {
			s.tooLong = true
			return true
		}
		s.text = strings.TrimSuffix(raw, "\r")
		if strings.HasPrefix(s.text, "#") {
			continue
		}
		if s.tokens = compat.AppendTokens(s.tokens[:0], s.text); len(s.tokens) > 0 {
			return true
		}
	}
	return false
}

// take applies the write of a line as ParseRule returned it, op or err.
func (b *builder) take(line int, text string, op *ipvs.Op, err error) error {
	if err != nil {
		return lineError(line, text, err)
	}
	if err := b.apply(op, line); err != nil {
		return lineError(line, text, &ipvs.Error{Command: op.Command, Err: err})
	}
	return nil
}

func tooLong(line int) *Error {
	return &Error{Line: line, Text: "", Message: "line too long", Status: 2, Err: bufio.ErrTooLong}
}

func lineError(line int, text string, err error) *Error {
	// A copy, so that the error does not hold on to all of the input.
	e := &Error{Line: line, Text: strings.Clone(strings.TrimRight(text, " \t\r")), Err: err}
	var failure *compat.Failure
	var kernel *ipvs.Error
	switch {
	case errors.As(err, &failure):
		e.Message, e.Status = failure.Error(), failure.Status
	case errors.As(err, &kernel):
		e.Message, e.Status = compat.KernelMessage(kernel.Command, kernel.Err), 255
	default:
		e.Message, e.Status = "only -A, -E, -D, -a, -e, -d and -C lines can be restored as a transaction", 2
	}
	return e
}
