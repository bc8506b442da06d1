package compat

import (
	"bufio"
	"errors"
	"io"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// restore is ipvsadm -R: each line of standard input is a command line,
// run in order. A kernel error or a popt error goes on to the next line, a
// validation error or a line that is not a command ends the restore, and
// the exit status is the last line's.
//
// ipvsadm 1.31 sends each line's write and waits for its answer before it
// reads the next line. Here the writes of consecutive lines go to the kernel
// in batches: the kernel carries out a batch's requests in order and goes
// on after a failed one, exactly as the line-by-line restore does, so the
// table, the messages (printed in line order) and the status are the same;
// a batch is sent before anything else is printed and before any line that
// is not a write.
func (r *runner) restore() int {
	status := 0
	batch := writeBatch{r: r}
	lines := restoreLines{r: bufio.NewReader(r.env.Stdin)}
	for {
		tokens, ok := lines.next()
		if !ok {
			return batch.send(status)
		}
		if len(tokens) == 0 {
			continue
		}
		args := append([]string{r.env.Args[0]}, tokens...)
		req, ex := parseArgs(args, r.env.Names)
		if ex != nil {
			status = batch.send(status)
			if ex.lineFails {
				// A popt error after the command: the line fails, the
				// restore goes on.
				status = r.end(ex)
				continue
			}
			// -h, -v, a validation error, a line that is no command:
			// ipvsadm exits.
			return r.end(ex)
		}
		if op, fn, ok := writeOf(req); ok {
			if batch.add(op, fn) {
				status = batch.send(status)
			}
			continue
		}
		status = batch.send(status)
		var exits bool
		status, exits = r.run(req, true)
		if exits {
			return status
		}
	}
}

// restoreBatch is how many lines' writes a restore holds before it sends
// them; ipvs.Client.Apply sends them in windows of its own.
const restoreBatch = 1024

// A writeBatch is the writes of restore lines not sent yet.
type writeBatch struct {
	r   *runner
	ops []ipvs.Op
	fns []libipvsFunc
}

// add adds a line's write; it reports whether the batch is full.
func (b *writeBatch) add(op ipvs.Op, fn libipvsFunc) bool {
	b.ops = append(b.ops, op)
	b.fns = append(b.fns, fn)
	return len(b.ops) >= restoreBatch
}

// send sends the batch and reports each write's failure as its line would
// have; it returns the status of the last line, status if there was none.
func (b *writeBatch) send(status int) int {
	if len(b.ops) == 0 {
		return status
	}
	reported := 0
	err := b.r.client.Apply(b.ops, func(i int, err error) bool {
		status = b.r.write(b.fns[i], err)
		reported = i + 1
		return true
	})
	for i := reported; err != nil && i < len(b.ops); i++ {
		if errors.Is(err, ipvs.ErrInvalid) {
			// The library refused to send the batch for one malformed
			// write: each goes alone, with its own outcome, as lines do.
			status = b.r.write(b.fns[i], applyOne(b.r.client, b.ops[i]))
		} else {
			// The socket failed: the lines not answered fail with it.
			status = b.r.write(b.fns[i], err)
		}
	}
	b.ops, b.fns = b.ops[:0], b.fns[:0]
	return status
}

// restoreLines tokenises ipvsadm -R input as 1.31's config_stream_read
// does.
type restoreLines struct {
	r   *bufio.Reader
	eof bool
}

// next returns the tokens of the next line, without the word "ipvsadm"
// wherever it stands; false at the end of the input.
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
	return SplitLine(line), true
}

// SplitLine splits one line of ipvsadm -R input into its tokens as 1.31
// does: runs of characters other than space, tab, CR and LF, without the
// word "ipvsadm" wherever it stands. 1.31 reads a token into a buffer of
// maxToken bytes, and what does not fit is the next token.
func SplitLine(line string) []string {
	var tokens []string
	for i := 0; i < len(line); {
		for i < len(line) && isRestoreBlank(line[i]) {
			i++
		}
		start := i
		for i < len(line) && !isRestoreBlank(line[i]) && i-start < maxToken {
			i++
		}
		if tok := line[start:i]; tok != "" && tok != "ipvsadm" {
			tokens = append(tokens, tok)
		}
	}
	return tokens
}

// maxToken is the longest token of a restore line (MAX_LINE_LENGTH).
const maxToken = 4096

func isRestoreBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
