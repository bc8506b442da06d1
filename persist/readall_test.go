package persist

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadAllOfAFile: standard input redirected from a file is read whole,
// from where it stands, through the buffer sized from the file.
func TestReadAllOfAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rules")
	text := strings.Repeat("-A -t 10.0.0.1:80 -s rr\n", 5000)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != text[10:] {
		t.Errorf("read %d bytes, want the %d after the first 10", len(got), len(text)-10)
	}
}
