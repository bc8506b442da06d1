package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A mismatchError says that a side made a table, or printed a listing,
// that differs from the reference's: its time must not count.
type mismatchError struct {
	what      string // "table after ours -R", "-Ln output of ours"
	line      int    // first line that differs, from 1
	want, got string // that line on each side ("" past the end)
	saved     string // where both texts were written
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("%s differs from the reference's at line %d:\n  reference: %q\n  this side: %q\n(both in %s)",
		e.what, e.line, e.want, e.got, e.saved)
}

// sameOutput checks got against want byte for byte; on a difference it
// saves both next to the JSON record and returns a *mismatchError.
func (b *bench) sameOutput(what string, want, got []byte) error {
	if bytes.Equal(want, got) {
		return nil
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	at := func(l []string) string {
		if i < len(l) {
			return l[i]
		}
		return ""
	}
	dir := filepath.Join(filepath.Dir(b.outPath), "mismatch")
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(what))
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".reference"), want, 0o644)
	_ = os.WriteFile(filepath.Join(dir, name+".got"), got, 0o644)
	return &mismatchError{what: what, line: i + 1, want: at(wl), got: at(gl), saved: dir}
}

// lines counts the lines of a listing.
func lines(b []byte) int { return bytes.Count(b, []byte("\n")) }
