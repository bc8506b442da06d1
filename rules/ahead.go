package rules

import (
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// The grammar of a line (compat.SplitLine and compat.ParseRule) depends on
// no other line, and is most of what parsing a big rules file costs; only
// the builder, which checks each write against the table the lines before
// it made, has to go in order. So parseAhead parses chunks of lines on
// other goroutines ahead of the builder, which takes their writes in order
// and stops at the first line it refuses, as parseLines does: the Set or
// the *Error is the same.

// chunkBytes is about how much of the input a goroutine parses at a time:
// some 350 lines of a saved table, enough to make handing them over cheap,
// few enough that the lines parsed past a refused one cost little.
const chunkBytes = 16 << 10

// An aheadChunk is lines of the input, parsed ahead.
type aheadChunk struct {
	text  string
	first int // the number of the line before its first
	// lines are its lines that are not blank or comments, once done is
	// closed.
	lines []aheadLine
	done  chan struct{}
}

// An aheadLine is a line parsed ahead: what compat.ParseRule made of it, or
// that it is too long, asked for names, or made the grammar panic.
type aheadLine struct {
	op      ipvs.Op
	err     error
	text    string
	line    int
	asked   bool
	tooLong bool
	// panicked is what the grammar panicked with, to panic with again
	// on the caller's goroutine if the builder gets to the line, as a
	// parse line by line would.
	panicked any
}

// A probe is the compat.Names of lines parsed ahead: it finds no name, and
// notes that the line asked for one, so that the builder parses that line
// again, in its turn, with the caller's names. So those are asked on one
// goroutine, in the order and for the lines a parse line by line asks
// them, and need not be safe for concurrent use; a line of numbers only
// (as ipvsadm-save -n writes them) asks nothing and is parsed once.
type probe struct{ asked bool }

func (p *probe) HostAddr(string) (netip.Addr, bool) {
	p.asked = true
	return netip.Addr{}, false
}

func (p *probe) AddrHost(netip.Addr) (string, bool) {
	p.asked = true
	return "", false
}

func (p *probe) ServicePort(string, string) (uint16, bool) {
	p.asked = true
	return 0, false
}

func (p *probe) PortService(uint16, string) (string, bool) {
	p.asked = true
	return "", false
}

// parseAhead parses input into b as parseLines does, the grammar of its
// lines on workers goroutines, in chunks of about size bytes.
func parseAhead(input string, names compat.Names, b *builder, workers, size int) error {
	chunks := cutChunks(input, size)
	// Workers take chunks in order, each with a buffer for its lines, and
	// only while one is free: so they run at most window chunks ahead
	// of the builder, and the lines in flight, 300 bytes each, take the
	// memory of a few chunks, not of the whole input.
	window := 2 * workers
	free := make(chan []aheadLine, window)
	for range window {
		free <- nil
	}
	stop := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			p := &probe{}
			for {
				var buf []aheadLine
				select {
				case buf = <-free:
				case <-stop:
					return
				}
				k := int(next.Add(1)) - 1
				if k >= len(chunks) {
					return
				}
				c := &chunks[k]
				if n := strings.Count(c.text, "\n") + 1; cap(buf) < n {
					// Once, or seldom: buffers are reused, and
					// chunks are alike.
					buf = make([]aheadLine, 0, n)
				}
				c.lines = parseChunk(c.text, c.first, buf[:0], p)
				close(c.done)
			}
		})
	}
	defer func() {
		// On a refused line the workers may be parsing chunks past
		// it: they take no more, and stop after those, before Parse
		// returns.
		next.Store(int64(len(chunks)))
		close(stop)
		wg.Wait()
	}()
	for k := range chunks {
		c := &chunks[k]
		<-c.done
		for i := range c.lines {
			l := &c.lines[i]
			switch {
			case l.panicked != nil:
				panic(l.panicked)
			case l.tooLong:
				return tooLong(l.line)
			}
			if l.asked {
				l.op, l.err = parseRule(compat.SplitLine(l.text), names)
			}
			if err := b.take(l.line, l.text, &l.op, l.err); err != nil {
				return err
			}
		}
		free <- c.lines[:0]
		c.lines = nil
	}
	return nil
}

// cutChunks cuts input into chunks of whole lines, of size bytes or a
// little more.
func cutChunks(input string, size int) []aheadChunk {
	chunks := make([]aheadChunk, 0, len(input)/size+1)
	line := 0
	for rest := input; rest != ""; {
		n := len(rest)
		if size < n {
			if i := strings.IndexByte(rest[size:], '\n'); i >= 0 {
				n = size + i + 1
			}
		}
		chunks = append(chunks, aheadChunk{text: rest[:n], first: line, done: make(chan struct{})})
		line += strings.Count(rest[:n], "\n")
		rest = rest[n:]
	}
	return chunks
}

// parseChunk appends the lines of text that are not blank or comments,
// parsed with p, to out; the line before text's first is line. It stops at
// a line too long or a panic, the last line the builder will look at.
func parseChunk(text string, line int, out []aheadLine, p *probe) (lines []aheadLine) {
	s := lineScanner{rest: text, line: line}
	defer func() {
		if v := recover(); v != nil {
			lines = append(out, aheadLine{line: s.line, panicked: v})
		}
	}()
	for s.next() {
		if s.tooLong {
			return append(out, aheadLine{line: s.line, tooLong: true})
		}
		p.asked = false
		op, err := parseRule(s.tokens, p)
		out = append(out, aheadLine{op: op, err: err, text: s.text, line: s.line, asked: p.asked})
	}
	return out
}
