package compat

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strings"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// This file is ipvsadm 1.31's -L -c: the connection table as the kernel
// writes it in /proc/net/ip_vs_conn, read line by line with fgets into 256
// bytes, each line parsed with sscanf and printed with names.

// connLineMax is how much of a line one fgets into ipvsadm's 256-byte buffer
// reads: a longer line is read, and parsed, as several.
const connLineMax = 255

// writeConnections writes -L -c from the contents of /proc/net/ip_vs_conn
// (after the runner opened it: if it cannot, ipvsadm says "cannot open file
// /proc/net/ip_vs_conn" and exits 1). It returns the status ipvsadm exits
// with and what it prints on stderr, for the runner to print after flushing
// w:
//
//   - an empty file: nothing on w, status 1 and "unexpected input from
//     /proc/net/ip_vs_conn\n";
//   - a line (after the kernel's header) of nothing but white space: the
//     lines before it on w, status 1 and no message: sscanf returns EOF and
//     ipvsadm exits silently;
//   - otherwise the whole listing and status 0.
//
// An error reading conns or writing w ends it with status 1 and no message,
// as ipvsadm has none.
func writeConnections(w *bufio.Writer, conns io.Reader, f listFormat, names Names) (status int, stderr string) {
	r := connReader{r: bufio.NewReaderSize(conns, 4096)}
	if _, err := r.next(); err != nil {
		if errors.Is(err, io.EOF) {
			return 1, "unexpected input from " + procConnections + "\n"
		}
		return 1, ""
	}
	b := make([]byte, 0, 256)
	b = append(b, "IPVS connection entries\npro expire "...)
	b = appendStringLeft(b, "state", 11)
	b = append(b, ' ')
	b = appendStringLeft(b, "source", 18)
	b = append(b, ' ')
	b = appendStringLeft(b, "virtual", 18)
	b = append(b, ' ')
	if f.persistentConn {
		b = appendStringLeft(b, "destination", 18)
		b = append(b, ' ')
		b = appendStringLeft(b, "pe name", 16)
		b = append(b, " pe_data\n"...)
	} else {
		b = append(b, "destination\n"...)
	}
	w.Write(b)

	l := newLister(w, names, f.numeric, false)
	for {
		line, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 1, ""
		}
		var c connLine
		n := c.scan(string(line))
		if n < 0 {
			return 1, ""
		}
		l.writeConnection(&c, f.persistentConn && n == 11)
	}
	if writeErr(w) != nil {
		return 1, ""
	}
	return 0, ""
}

// connReader reads as fgets(buf, 256, f) does: up to 255 bytes, ending
// after a newline if there is one in them.
type connReader struct {
	r       *bufio.Reader
	pending int // bytes of the last line, still in r's buffer
}

// next returns the next line, valid until the following call, or io.EOF.
func (c *connReader) next() ([]byte, error) {
	if c.pending > 0 {
		c.r.Discard(c.pending)
		c.pending = 0
	}
	p, err := c.r.Peek(connLineMax)
	if len(p) == 0 {
		if err == nil {
			err = io.EOF
		}
		return nil, err
	}
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		p = p[:i+1]
	}
	c.pending = len(p)
	return p, nil
}

// connLine is one line of the connection table as ipvsadm's print_conn
// reads it. The text fields point into the line. A field sscanf does not
// reach is left zero (in ipvsadm it is whatever the stack held; the kernel
// always writes at least nine fields).
type connLine struct {
	protocol, client, virtual, dest, state, peName, peData string
	clientPort, virtualPort, destPort                      uint16
	expires                                                uint32
}

// scan parses a line as sscanf(line, "%s %s %hX %s %hX %s %hX %s %d %s %s")
// and returns what sscanf returns: how many fields it converted, or -1
// (EOF) if the line ends, or holds a NUL, before the first.
func (c *connLine) scan(line string) int {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	s := cScanner{b: line}
	texts := [...]*string{&c.protocol, &c.client, nil, &c.virtual, nil, &c.dest, nil, &c.state, nil, &c.peName, &c.peData}
	ports := [...]*uint16{2: &c.clientPort, 4: &c.virtualPort, 6: &c.destPort}
	n := 0
	for i := range texts {
		if !s.skipSpace() {
			// Input failure: EOF before the first conversion.
			if n == 0 {
				return -1
			}
			return n
		}
		var ok bool
		switch {
		case texts[i] != nil:
			*texts[i], ok = s.word(), true
		case i == 8:
			var v int64
			v, ok = s.integer(10)
			c.expires = uint32(int32(v)) // %d into an int, read as unsigned
		default:
			var v int64
			v, ok = s.integer(16)
			*ports[i] = uint16(v)
		}
		if !ok {
			return n
		}
		n++
	}
	return n
}

// cScanner reads a line as glibc's sscanf does.
type cScanner struct {
	b string
	i int
}

// skipSpace skips white space and reports whether anything is left.
func (s *cScanner) skipSpace() bool {
	for s.i < len(s.b) && cIsSpace(s.b[s.i]) {
		s.i++
	}
	return s.i < len(s.b)
}

// word reads a %s: everything up to white space.
func (s *cScanner) word() string {
	start := s.i
	for s.i < len(s.b) && !cIsSpace(s.b[s.i]) {
		s.i++
	}
	return s.b[start:s.i]
}

// integer reads a %d (base 10) or %X (base 16): an optional sign, an
// optional 0x before hex digits, and digits; false if there are none. The
// value is what strtol (base 10) or strtoul (base 16) makes of them,
// saturated at the 64-bit limits, for the caller to cut to its C type.
func (s *cScanner) integer(base uint64) (int64, bool) {
	neg := false
	if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
		neg = s.b[s.i] == '-'
		s.i++
	}
	digits := 0
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
		digits++
		if base == 16 && s.i < len(s.b) && (s.b[s.i] == 'x' || s.b[s.i] == 'X') {
			s.i++
		}
	}
	var v uint64
	overflow := false
	for s.i < len(s.b) {
		d, ok := digitValue(s.b[s.i], base)
		if !ok {
			break
		}
		if v > (math.MaxUint64-d)/base {
			overflow = true
		} else {
			v = v*base + d
		}
		s.i++
		digits++
	}
	if digits == 0 {
		return 0, false
	}
	if base == 16 {
		// strtoul: the negation of the unsigned value, ULONG_MAX on overflow.
		if overflow {
			return -1, true
		}
		if neg {
			v = -v
		}
		return int64(v), true
	}
	// strtol: saturated at LONG_MIN and LONG_MAX.
	switch {
	case neg && (overflow || v > 1<<63):
		return math.MinInt64, true
	case neg:
		return -int64(v), true
	case overflow || v > math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(v), true
}

func digitValue(c byte, base uint64) (uint64, bool) {
	d := hexValue(c)
	if d < 0 || uint64(d) >= base {
		return 0, false
	}
	return uint64(d), true
}

// connProtocol is the protocol whose port names a row gets: TCP, UDP and
// SCTP; any other (the kernel's "IP" of firewall-mark templates) shows
// ports in decimal.
func connProtocol(name string) ipvs.Protocol {
	switch name {
	case "TCP":
		return ipvs.TCP
	case "UDP":
		return ipvs.UDP
	case "SCTP":
		return ipvs.SCTP
	}
	return 0
}

// connAddr reads an address field: IPv6 text, IPv4 text, or else (as the
// kernel writes IPv4) a hexadecimal number, with strtoul's leniency.
func connAddr(field string) (ipvs.Family, inetAddr) {
	if u, ok := inetPton6(field); ok {
		return ipvs.IPv6, u
	}
	if v4, ok := inetPton4(field); ok {
		var u inetAddr
		copy(u[:], v4[:])
		return ipvs.IPv4, u
	}
	return ipvs.IPv4, hexAddr(field)
}

// hexAddr is htonl(strtoul(field, NULL, 16)) cut to 32 bits.
func hexAddr(field string) (u inetAddr) {
	s := cScanner{b: field}
	s.skipSpace()
	v, _ := s.integer(16)
	x := uint32(v)
	u[0], u[1], u[2], u[3] = byte(x>>24), byte(x>>16), byte(x>>8), byte(x)
	return u
}

// writeConnection writes the row of a connection; withEngine adds the
// persistence-engine columns (--persistent-conn, when the line has them).
func (l *lister) writeConnection(c *connLine, withEngine bool) {
	// The client decides the family of client and virtual address; an
	// address that does not parse in it is left zero (ipvsadm leaves it
	// unset). The destination is read on its own.
	var caddr, vaddr inetAddr
	af := ipvs.IPv4
	if u, ok := inetPton6(c.client); ok {
		af, caddr = ipvs.IPv6, u
		if u, ok := inetPton6(c.virtual); ok {
			vaddr = u
		}
	} else if u, ok := inetPton4(c.client); ok {
		copy(caddr[:], u[:])
		if u, ok := inetPton4(c.virtual); ok {
			copy(vaddr[:], u[:])
		}
	} else {
		caddr, vaddr = hexAddr(c.client), hexAddr(c.virtual)
	}
	daf, daddr := connAddr(c.dest)
	proto := connProtocol(c.protocol)

	b := appendStringLeft(l.line[:0], c.protocol, 3)
	b = append(b, ' ')
	start := len(b)
	b = appendZeroPadded(b, uint64(c.expires/60))
	b = append(b, ':')
	b = appendZeroPadded(b, uint64(c.expires%60))
	b = padField(b, start, 6)
	b = append(b, ' ')
	b = appendStringLeft(b, c.state, 11)
	b = append(b, ' ')
	start = len(b)
	b = appendAddrPort(b, af, &caddr, c.clientPort, proto, l.numeric, l.names)
	b = padField(b, start, 18)
	b = append(b, ' ')
	start = len(b)
	b = appendAddrPort(b, af, &vaddr, c.virtualPort, proto, l.numeric, l.names)
	b = padField(b, start, 18)
	b = append(b, ' ')
	start = len(b)
	b = appendAddrPort(b, daf, &daddr, c.destPort, proto, l.numeric, l.names)
	if withEngine {
		b = padField(b, start, 16)
		b = append(b, ' ')
		b = appendStringLeft(b, c.peName, 18)
		b = append(b, ' ')
		b = append(b, c.peData...)
	}
	l.write(append(b, '\n'))
}
