//go:build linux

package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeString returns a write callback that writes s.
func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// setUmask sets the process's umask for the rest of the test.
func setUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// names lists the entries of dir, so that a test can see that no temporary
// file was left behind.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// writeOld creates path with content and exactly mode.
func writeOld(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func TestWriteFileNewFileModeIgnoresUmask(t *testing.T) {
	tests := []struct {
		name        string
		umask       int
		defaultMode os.FileMode
		want        os.FileMode
	}{
		{name: "no umask", umask: 0, defaultMode: 0o600, want: 0o600},
		{name: "umask 022", umask: 0o022, defaultMode: 0o600, want: 0o600},
		{name: "umask 777", umask: 0o777, defaultMode: 0o600, want: 0o600},
		{name: "umask 077 and 0644 wanted", umask: 0o077, defaultMode: 0o644, want: 0o644},
		{name: "type bits ignored", umask: 0o022, defaultMode: fs.ModeDir | 0o640, want: 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir() // before the umask, which could lock us out
			setUmask(t, tt.umask)
			path := filepath.Join(dir, "rules")
			if err := WriteFile(path, tt.defaultMode, writeString("-A -t 10.0.0.1:80 -s rr\n")); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, perm(t, path)); diff != "" {
				t.Errorf("mode (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"rules"}, names(t, dir)); diff != "" {
				t.Errorf("directory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteFileReplacesContentKeepsMode(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		mode     os.FileMode
	}{
		{name: "shorter, 0644", old: "-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.2:80 -s wlc\n", new: "-C\n", mode: 0o644},
		{name: "longer, 0640", old: "x", new: strings.Repeat("-A -t 10.0.0.1:80 -s rr\n", 1000), mode: 0o640},
		{name: "empty, 0400", old: "something\n", new: "", mode: 0o400},
		{name: "no newline, 0755", old: "", new: "\x00binary\xff", mode: 0o755},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			setUmask(t, 0o077)
			path := filepath.Join(dir, "rules")
			writeOld(t, path, tt.old, tt.mode)
			if err := WriteFile(path, 0o600, writeString(tt.new)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.new, readFile(t, path)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.mode, perm(t, path)); diff != "" {
				t.Errorf("mode (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"rules"}, names(t, dir)); diff != "" {
				t.Errorf("directory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeOld(t, "rules", "old\n", 0o600)
	if err := WriteFile("rules", 0o600, writeString("new\n")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("new\n", readFile(t, filepath.Join(dir, "rules"))); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
}

func TestWriteFileRootKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file away")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "rules")
	writeOld(t, path, "old\n", 0o640)
	const uid, gid = 65534, 65533
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, 0o600, writeString("new\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if diff := cmp.Diff([2]uint32{uid, gid}, [2]uint32{st.Uid, st.Gid}); diff != "" {
		t.Errorf("owner and group (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(os.FileMode(0o640), fi.Mode()); diff != "" {
		t.Errorf("mode (-want +got):\n%s", diff)
	}
}

func TestWriteFileFailedWriteKeepsOldFile(t *testing.T) {
	errSave := errors.New("save failed")
	// More than bufio's buffer, so that part of it reached the temporary
	// file before the failure.
	partial := strings.Repeat("-A -t 10.0.0.1:80 -s rr\n", 1000)
	tests := []struct {
		name  string
		write func(io.Writer) error
		want  error
	}{
		{name: "error before writing", write: func(io.Writer) error { return errSave }, want: errSave},
		{name: "error after writing", write: func(w io.Writer) error {
			io.WriteString(w, partial)
			return errSave
		}, want: errSave},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rules")
			const old = "-A -t 10.0.0.9:443 -s wrr\n"
			writeOld(t, path, old, 0o644)
			err := WriteFile(path, 0o600, tt.write)
			if !errors.Is(err, tt.want) {
				t.Fatalf("WriteFile error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if diff := cmp.Diff(old, readFile(t, path)); diff != "" {
				t.Errorf("old file changed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(os.FileMode(0o644), perm(t, path)); diff != "" {
				t.Errorf("old file's mode (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"rules"}, names(t, dir)); diff != "" {
				t.Errorf("directory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteFilePanicLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules")
	writeOld(t, path, "old\n", 0o600)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the write callback's panic was swallowed")
			}
		}()
		WriteFile(path, 0o600, func(w io.Writer) error {
			io.WriteString(w, "half")
			panic("save panicked")
		})
	}()
	if diff := cmp.Diff("old\n", readFile(t, path)); diff != "" {
		t.Errorf("old file changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"rules"}, names(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

func TestWriteFileRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "precious")
	const precious = "do not overwrite\n"
	writeOld(t, target, precious, 0o644)
	path := filepath.Join(dir, "rules")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, 0o600, writeString("new\n"))
	if !errors.Is(err, errSymlink) {
		t.Fatalf("WriteFile error = %v, want %v", err, errSymlink)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if diff := cmp.Diff(precious, readFile(t, target)); diff != "" {
		t.Errorf("symbolic link's target changed (-want +got):\n%s", diff)
	}
	if got, err := os.Readlink(path); err != nil || got != target {
		t.Errorf("Readlink(%s) = %q, %v; want %q, the link untouched", path, got, err, target)
	}
	if diff := cmp.Diff([]string{"rules"}, names(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

func TestWriteFileRefusesNonRegular(t *testing.T) {
	tests := []struct {
		name string
		make func(path string) error
		want error
	}{
		{name: "directory", make: func(p string) error { return os.Mkdir(p, 0o700) }, want: syscall.EISDIR},
		{name: "fifo", make: func(p string) error { return syscall.Mkfifo(p, 0o600) }, want: errNotRegular},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rules")
			if err := tt.make(path); err != nil {
				t.Fatal(err)
			}
			before := perm(t, path)
			err := WriteFile(path, 0o600, writeString("new\n"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("WriteFile error = %v, want %v", err, tt.want)
			}
			if diff := cmp.Diff(before, perm(t, path)); diff != "" {
				t.Errorf("%s changed (-want +got):\n%s", path, diff)
			}
			if diff := cmp.Diff([]string{"rules"}, names(t, dir)); diff != "" {
				t.Errorf("directory (-want +got):\n%s", diff)
			}
		})
	}
}

// suffixes makes randomSuffix return the given suffixes in turn, then
// "exhausted", and counts the calls.
func suffixes(t *testing.T, s ...string) *int {
	t.Helper()
	old := randomSuffix
	t.Cleanup(func() { randomSuffix = old })
	calls := new(int)
	randomSuffix = func() string {
		*calls++
		if len(s) == 0 {
			return "exhausted"
		}
		next := s[0]
		s = s[1:]
		return next
	}
	return calls
}

// TestWriteFileSkipsPlantedTemporaryNames plants symbolic links at the
// temporary names a predictable WriteFile would use, in a directory anyone
// can write to, and checks that they are neither followed nor replaced.
func TestWriteFileSkipsPlantedTemporaryNames(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	const precious = "do not overwrite\n"
	writeOld(t, victim, precious, 0o644)
	planted := []string{".rules.tmp", ".rules.tmp-0", ".rules.tmp-1"}
	for _, name := range planted {
		if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// A dangling link too: O_CREAT without O_EXCL would create its target.
	dangling := filepath.Join(t.TempDir(), "created-through-link")
	if err := os.Symlink(dangling, filepath.Join(dir, ".rules.tmp-2")); err != nil {
		t.Fatal(err)
	}
	calls := suffixes(t, "0", "1", "2", "3")

	path := filepath.Join(dir, "rules")
	if err := WriteFile(path, 0o600, writeString("new\n")); err != nil {
		t.Fatal(err)
	}
	if *calls != 4 {
		t.Errorf("%d temporary names tried, want 4", *calls)
	}
	if diff := cmp.Diff("new\n", readFile(t, path)); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(precious, readFile(t, victim)); diff != "" {
		t.Errorf("planted link's target changed (-want +got):\n%s", diff)
	}
	if _, err := os.Lstat(dangling); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dangling link's target was created: Lstat error = %v", err)
	}
	want := []string{".rules.tmp", ".rules.tmp-0", ".rules.tmp-1", ".rules.tmp-2", "rules"}
	if diff := cmp.Diff(want, names(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
	for _, name := range planted {
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != victim {
			t.Errorf("planted %s = %q, %v; want a link to %s", name, got, err, victim)
		}
	}
}

func TestWriteFileGivesUpWhenEveryTemporaryNameIsTaken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".rules.tmp-exhausted"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	calls := suffixes(t)
	path := filepath.Join(dir, "rules")
	writeOld(t, path, "old\n", 0o600)
	err := WriteFile(path, 0o600, writeString("new\n"))
	if !errors.Is(err, fs.ErrExist) || !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("WriteFile error = %v, want EEXIST", err)
	}
	if *calls != tempAttempts {
		t.Errorf("%d temporary names tried, want %d", *calls, tempAttempts)
	}
	if diff := cmp.Diff("old\n", readFile(t, path)); diff != "" {
		t.Errorf("old file changed (-want +got):\n%s", diff)
	}
}

func TestWriteFileLongName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, strings.Repeat("r", 255)) // NAME_MAX
	if err := WriteFile(path, 0o600, writeString("new\n")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("new\n", readFile(t, path)); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
}

// TestWriteFileFullDisk fills a small tmpfs and checks that a failed
// WriteFile reports ENOSPC and leaves the old file whole. It needs root to
// mount the tmpfs.
func TestWriteFileFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	// Registered after t.TempDir's cleanup, so it runs before it.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})

	path := filepath.Join(dir, "rules")
	const old = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n"
	writeOld(t, path, old, 0o644)
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = filler.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	filler.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the tmpfs: %v, want ENOSPC", err)
	}

	content := bytes.Repeat([]byte("-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n"), 1<<20/41+1)[:1<<20]
	err = WriteFile(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(content)
		return err
	})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("WriteFile error = %v, want ENOSPC", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if diff := cmp.Diff(old, readFile(t, path)); diff != "" {
		t.Errorf("old file changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(os.FileMode(0o644), perm(t, path)); diff != "" {
		t.Errorf("old file's mode (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"filler", "rules"}, names(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

// TestRemoveStaleRemovesOnlyLeftTemporaryFiles: what a killed WriteFile
// left for the path goes; the file itself, other files' temporaries, and
// a link planted with the pattern's name stay.
func TestRemoveStaleRemovesOnlyLeftTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ipvsadm.rules")
	for _, name := range []string{"ipvsadm.rules", ".ipvsadm.rules.tmp-0a1b", ".ipvsadm.rules.tmp-ffff", ".other.tmp-0a1b", "ipvsadm.rules.tmp-0a1b"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, ".ipvsadm.rules.tmp-link")); err != nil {
		t.Fatal(err)
	}
	if n := RemoveStale(path); n != 2 {
		t.Errorf("RemoveStale removed %d files, want 2", n)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{".ipvsadm.rules.tmp-link", ".other.tmp-0a1b", "ipvsadm.rules", "ipvsadm.rules.tmp-0a1b"}
	if diff := cmp.Diff(want, left); diff != "" {
		t.Errorf("files left (-want +got):\n%s", diff)
	}
}
