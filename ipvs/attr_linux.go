//go:build linux

package ipvs

import (
	"encoding/binary"
	"errors"
	"math"

	"golang.org/x/sys/unix"
)

// An attributeEncoder appends netlink attributes to one buffer, in the
// layout mdlayher/netlink's AttributeEncoder writes (native byte order,
// each attribute padded to 4 bytes, NLA_F_NESTED on nests), without its
// allocations: it makes a slice per attribute and a closure and an encoder
// per nest, and encoding was a sixth of the time of a batched restore.
type attributeEncoder struct {
	b   []byte
	err error
}

var errAttributeTooLong = errors.New("attribute too long for netlink")

// open appends the header of an attribute of n bytes and returns where it
// starts.
func (e *attributeEncoder) open(typ uint16, n int) int {
	start := len(e.b)
	if n > math.MaxUint16-unix.NLA_HDRLEN {
		e.err = errAttributeTooLong
	}
	e.b = binary.NativeEndian.AppendUint16(e.b, uint16(unix.NLA_HDRLEN+n))
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	return start
}

func (e *attributeEncoder) pad() {
	for len(e.b)%unix.NLA_ALIGNTO != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *attributeEncoder) Uint8(typ uint16, v uint8) {
	e.open(typ, 1)
	e.b = append(e.b, v)
	e.pad()
}

func (e *attributeEncoder) Uint16(typ uint16, v uint16) {
	e.open(typ, 2)
	e.b = binary.NativeEndian.AppendUint16(e.b, v)
	e.pad()
}

func (e *attributeEncoder) Uint32(typ uint16, v uint32) {
	e.open(typ, 4)
	e.b = binary.NativeEndian.AppendUint32(e.b, v)
	e.pad()
}

func (e *attributeEncoder) Bytes(typ uint16, v []byte) {
	e.open(typ, len(v))
	e.b = append(e.b, v...)
	e.pad()
}

// String encodes s NUL-terminated, as the kernel's NLA_NUL_STRING wants.
func (e *attributeEncoder) String(typ uint16, s string) {
	e.open(typ, len(s)+1)
	e.b = append(append(e.b, s...), 0)
	e.pad()
}

// Nested encodes the attributes fn encodes inside one of type typ.
func (e *attributeEncoder) Nested(typ uint16, fn func(*attributeEncoder) error) {
	start := e.open(typ|unix.NLA_F_NESTED, 0)
	if err := fn(e); err != nil && e.err == nil {
		e.err = err
	}
	n := len(e.b) - start
	if n > math.MaxUint16 {
		e.err = errAttributeTooLong
	}
	binary.NativeEndian.PutUint16(e.b[start:], uint16(n))
}
