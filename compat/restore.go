package compat

import (
	"bufio"
	"io"
)

// restore is ipvsadm -R: each line of standard input is a command line,
// run at once. A kernel error or a popt error goes on to the next line, a
// validation error or a line that is not a command ends the restore, and
// the exit status is the last line's.
func (r *runner) restore() int {
	status := 0
	lines := restoreLines{r: bufio.NewReader(r.env.Stdin)}
	for {
		tokens, ok := lines.next()
		if !ok {
			return status
		}
		if len(tokens) == 0 {
			continue
		}
		args := append([]string{r.env.Args[0]}, tokens...)
		req, ex := parseArgs(args, r.env.Names)
		if ex != nil {
			switch {
			case ex.lineFails:
				// A popt error after the command: the line fails, the
				// restore goes on.
				status = r.end(ex)
				continue
			default:
				// -h, -v, a validation error, a line that is no
				// command: ipvsadm exits.
				return r.end(ex)
			}
		}
		var exits bool
		status, exits = r.run(req, true)
		if exits {
			return status
		}
	}
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
// word "ipvsadm" wherever it stands.
func SplitLine(line string) []string {
	var tokens []string
	for i := 0; i < len(line); {
		for i < len(line) && isRestoreBlank(line[i]) {
			i++
		}
		start := i
		for i < len(line) && !isRestoreBlank(line[i]) {
			i++
		}
		if tok := line[start:i]; tok != "" && tok != "ipvsadm" {
			tokens = append(tokens, tok)
		}
	}
	return tokens
}

func isRestoreBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
