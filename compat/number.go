package compat

import "strconv"

// This file has the number formats of ipvsadm's listings: print_largenum and
// the printf conversions %*llu, %-*u and %-*d, written as appends to the line
// being built so that a listing allocates nothing per line.

// appendLargenum appends n as ipvsadm 1.31's print_largenum does: with
// --exact, " %8llu" (its width is 9 up to 8 digits and digits+1 above, which
// is the same); otherwise "%9llu" below 10^8 and the quotient "%8llu" with a
// K, M, G or T suffix above, by integer division. Every field starts with a
// space only while the number fits, so wide values run together
// ("100T18446744T").
func appendLargenum(b []byte, n uint64, exact bool) []byte {
	if exact {
		b = append(b, ' ')
		return appendUintRight(b, n, 8)
	}
	switch {
	case n < 100_000_000:
		return appendUintRight(b, n, 9)
	case n < 1_000_000_000:
		return append(appendUintRight(b, n/1_000, 8), 'K')
	case n < 100_000_000_000:
		return append(appendUintRight(b, n/1_000_000, 8), 'M')
	case n < 100_000_000_000_000:
		return append(appendUintRight(b, n/1_000_000_000, 8), 'G')
	}
	return append(appendUintRight(b, n/1_000_000_000_000, 8), 'T')
}

// appendUintRight appends n right-aligned in width columns, as "%*llu".
func appendUintRight(b []byte, n uint64, width int) []byte {
	for i := decimalLen(n); i < width; i++ {
		b = append(b, ' ')
	}
	return strconv.AppendUint(b, n, 10)
}

// appendUintLeft appends n left-aligned in width columns, as "%-*u".
func appendUintLeft(b []byte, n uint64, width int) []byte {
	start := len(b)
	b = strconv.AppendUint(b, n, 10)
	return padField(b, start, width)
}

// appendIntLeft appends n left-aligned in width columns, as "%-*d".
func appendIntLeft(b []byte, n int64, width int) []byte {
	start := len(b)
	b = strconv.AppendInt(b, n, 10)
	return padField(b, start, width)
}

// appendStringLeft appends s left-aligned in width columns, as "%-*s".
func appendStringLeft[S ~string | ~[]byte](b []byte, s S, width int) []byte {
	start := len(b)
	b = append(b, s...)
	return padField(b, start, width)
}

// padField pads the field that starts at b[start] with spaces to width
// bytes; printf pads and never truncates, and neither does this.
func padField(b []byte, start, width int) []byte {
	for i := len(b) - start; i < width; i++ {
		b = append(b, ' ')
	}
	return b
}

// appendZeroPadded appends n as "%02d" of a non-negative int.
func appendZeroPadded(b []byte, n uint64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, n, 10)
}

// decimalLen is the number of decimal digits of n.
func decimalLen(n uint64) int {
	l := 1
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}
