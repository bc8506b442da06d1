package compat

import (
	"bufio"
	"io"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// restore is ipvsadm -R: each line of standard input is a command line,
// run in order. A kernel error or a popt error goes on to the next line, a
// validation error or a line that is not a command ends the restore, and
// the exit status is the last line's.
//
// ipvsadm 1.31 sends each line's write and waits for its answer before it
// reads the next line. Here the writes of consecutive lines go to the
// kernel in windows (ipvs.Writer), one window carried out while the lines
// of the next are parsed: the kernel carries out a window's requests in
// order and goes on after a failed one, exactly as the line-by-line restore
// does, so the table, the messages (printed in line order) and the status
// are the same. Every write is answered before anything else is printed,
// and before any line that is not a write runs.
func (r *runner) restore() int {
	writes := restoreWrites{r: r}
	writes.w = r.client.NewWriter(writes.report)
	lines := restoreLines{r: bufio.NewReader(r.env.Stdin)}
	var p parser
	for {
		tokens, ok := lines.next()
		if !ok {
			writes.flush()
			return writes.status
		}
		if len(tokens) == 0 {
			continue
		}
		// One parser for every line: a line of a restore allocates only
		// its tokens.
		p = parser{names: r.env.Names}
		ex := p.parse(r.env.Args[0], tokens)
		req := &p.req
		if ex != nil {
			writes.flush()
			if ex.lineFails {
				// A popt error after the command: the line fails, the
				// restore goes on.
				writes.status = r.end(ex)
				continue
			}
			// -h, -v, a validation error, a line that is no command:
			// ipvsadm exits.
			return r.end(ex)
		}
		if op, fn, ok := writeOf(req); ok {
			writes.add(op, fn)
			continue
		}
		writes.flush()
		status, exits := r.run(req, true)
		if exits {
			return status
		}
		writes.status = status
	}
}

// restoreWrites is the writes of restore lines on their way to the kernel.
type restoreWrites struct {
	r      *runner
	w      *ipvs.Writer
	fns    []libipvsFunc // of the lines written and not yet answered, in order
	status int           // of the last line answered
}

// add writes a line's op.
func (p *restoreWrites) add(op ipvs.Op, fn libipvsFunc) {
	if err := p.w.Write(op); err != nil {
		// Refused before it was sent (malformed), or the socket has
		// failed: the line fails alone, after the lines before it.
		p.flush()
		p.status = p.r.write(fn, err)
		return
	}
	p.fns = append(p.fns, fn)
}

// report is the Writer's: the outcome of the oldest line not yet answered.
func (p *restoreWrites) report(_ int, err error) {
	p.status = p.r.write(p.fns[0], err)
	p.fns = p.fns[1:]
}

// flush waits until every line written is answered.
func (p *restoreWrites) flush() {
	if err := p.w.Flush(); err != nil {
		// The socket failed: the lines not answered fail with it.
		for _, fn := range p.fns {
			p.status = p.r.write(fn, err)
		}
	}
	p.fns = p.fns[:0]
}

// restoreLines tokenises ipvsadm -R input as 1.31's config_stream_read
// does.
type restoreLines struct {
	r      *bufio.Reader
	eof    bool
	tokens []string // of the last line, reused for the next
}

// next returns the tokens of the next line, without the word "ipvsadm"
// wherever it stands, valid until the next call; false at the end of the
// input.
func (l *restoreLines) next() ([]string, bool) {
	if l.eof {
		return nil, false
	}
	line, err := l.r.ReadString('\n')
	if err != nil {
		l.eof = true
		if line == "" || (err != io.EOF) {
			return nil, false
		}
		// 1.31 drops a last line that lacks its newline and ends in two or
		// more blanks.
		if n := len(line); n >= 2 && isRestoreBlank(line[n-1]) && isRestoreBlank(line[n-2]) {
			return nil, false
		}
	}
	l.tokens = AppendTokens(l.tokens[:0], line)
	return l.tokens, true
}

// SplitLine splits one line of ipvsadm -R input into its tokens as 1.31
// does: runs of characters other than space, tab, CR and LF, without the
// word "ipvsadm" wherever it stands. 1.31 reads a token into a buffer of
// maxToken bytes, and what does not fit is the next token.
func SplitLine(line string) []string {
	// The tokens are gathered on the stack and returned in one
	// allocation of their exact number. No line of -S has 24 tokens; a
	// longer line only grows the slice on the heap.
	var stack [24]string
	tokens := AppendTokens(stack[:0], line)
	if len(tokens) == 0 {
		return nil
	}
	return append([]string(nil), tokens...)
}

// AppendTokens appends the tokens of line, as SplitLine splits it, to dst:
// a restore that is done with a line's tokens before it splits the next
// can split every line into one slice.
func AppendTokens(dst []string, line string) []string {
	for i := 0; i < len(line); {
		for i < len(line) && restoreBlank[line[i]] {
			i++
		}
		tok := line[i:min(len(line), i+maxToken)]
		n := 0
		for n < len(tok) && !restoreBlank[tok[n]] {
			n++
		}
		tok = tok[:n]
		i += n
		if tok != "" && tok != "ipvsadm" {
			dst = append(dst, tok)
		}
	}
	return dst
}

// maxToken is the longest token of a restore line (MAX_LINE_LENGTH).
const maxToken = 4096

func isRestoreBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// restoreBlank is isRestoreBlank as a table, for the loops over every byte
// of a restore.
var restoreBlank = func() (blank [256]bool) {
	for c := range blank {
		blank[c] = isRestoreBlank(byte(c))
	}
	return blank
}()
