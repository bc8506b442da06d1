//go:build unix

package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// errSymlink refuses a symbolic link at the path to replace. Renaming over it
// would replace the link rather than the file it names, and following it
// would let whoever controls the link's directory (too often /tmp) choose
// which file is overwritten; an operator who wants the rules elsewhere
// should name that place.
var errSymlink = errors.New("is a symbolic link; refusing to replace it, name the file it points to instead")

// errNotRegular refuses a FIFO, a device or a socket at the path: replacing
// /dev/stdout or a named pipe by a regular file is never what was meant.
var errNotRegular = errors.New("not a regular file")

// tempAttempts bounds the retries when a temporary name is taken. With 64
// random bits a clash is a planted file, not bad luck, and retrying forever
// would let its planter keep us busy.
const tempAttempts = 16

// randomSuffix returns an unpredictable suffix for a temporary name; a
// variable so that tests can make it predictable.
var randomSuffix = func() string {
	var b [8]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// WriteFile replaces the file at path with what write writes, atomically.
//
// If path exists it must be a regular file (not a directory nor a symbolic
// link); the new file takes its permission bits and, when the caller runs as
// root, its owner and group. Otherwise the new file gets defaultMode, exactly:
// the umask does not apply.
//
// write's writes are buffered; write need not check their errors, which are
// sticky and reported by the final flush. If write, the flush, fsync or close
// fails, the temporary file is removed, the old file is left as it was, and
// the error, which names path, keeps the cause: errors.Is(err,
// syscall.ENOSPC) answers a full disk.
//
// An error after the rename, when the directory could not be flushed, says
// so: path then has the new content, but a crash could still bring the old
// one back.
func WriteFile(path string, defaultMode os.FileMode, write func(w io.Writer) error) error {
	mode, owner, err := targetMode(path, defaultMode)
	if err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	// The temporary file goes in the same directory as path because rename
	// is atomic only within one filesystem, and a directory is never split
	// over two.
	dir := filepath.Dir(path)
	f, err := createTemp(dir, filepath.Base(path))
	if err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		// Also runs if write panics. Nothing better can be done if the
		// removal fails, and the hidden, random name keeps the leftover
		// out of everyone's way.
		if !renamed {
			os.Remove(tmp)
		}
	}()
	if err := fill(f, mode, owner, write); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	renamed = true
	// The rename changed the directory, not the file: until the directory
	// reaches the disk, a crash can bring back the old name's old file.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("replace %s: the file was renamed into place, but a crash may still undo it: %w", path, err)
	}
	return nil
}

// An owner is the user and group a replaced file keeps.
type owner struct {
	keep     bool
	uid, gid int
}

// targetMode returns the mode and owner the new file at path is to have: the
// old file's, or defaultMode and the caller's own if there is none.
func targetMode(path string, defaultMode os.FileMode) (os.FileMode, owner, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return defaultMode.Perm(), owner{}, nil
	}
	if err != nil {
		return 0, owner{}, err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return 0, owner{}, errSymlink
	case fi.IsDir():
		return 0, owner{}, syscall.EISDIR
	case !fi.Mode().IsRegular():
		return 0, owner{}, errNotRegular
	}
	// Only root may give a file away; anyone else's new file is theirs,
	// which is what they would get from writing the file themselves.
	var o owner
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		o = owner{keep: true, uid: int(st.Uid), gid: int(st.Gid)}
	}
	return fi.Mode().Perm(), o, nil
}

// createTemp creates a new, empty temporary file in dir for base. The
// directory may be writable by others, so the name is unpredictable, the file
// must be new (O_EXCL, which also refuses any symbolic link, even a dangling
// one) and readable by the caller alone until fill sets its mode.
func createTemp(dir, base string) (*os.File, error) {
	// Keep the name within NAME_MAX (255 bytes) for long bases: the
	// temporary name only has to be unique, not readable.
	if len(base) > 200 {
		base = base[:200]
	}
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	var err error
	for range tempAttempts {
		name := filepath.Join(dir, "."+base+".tmp-"+randomSuffix())
		var f *os.File
		f, err = os.OpenFile(name, flags, 0o600)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, err
}

// fill gives f its owner and mode, writes it, flushes it to the disk and
// closes it. f is closed when fill returns, whatever happened.
func fill(f *os.File, mode os.FileMode, o owner, write func(w io.Writer) error) (err error) {
	defer func() {
		// close can report a write-back error that fsync did not.
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return fillOpen(f, mode, o, write)
}

func fillOpen(f *os.File, mode os.FileMode, o owner, write func(w io.Writer) error) error {
	// Owner first: chown clears set-id bits, and fchown and fchmod act on
	// the open file, so nobody can swap another one in under the name.
	if o.keep {
		if err := f.Chown(o.uid, o.gid); err != nil {
			return err
		}
	}
	// fchmod, unlike open's mode, is not filtered by the umask.
	if err := f.Chmod(mode); err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	// The data must be on the disk before the rename is, or a crash could
	// leave the new name on an empty or partial file.
	return f.Sync()
}

// syncDir flushes the directory dir, and with it the renames done in it.
func syncDir(dir string) error {
	d, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// RemoveStale removes the temporary files that WriteFile calls for path
// left behind when their process was killed before it could clean up: the
// regular files of its pattern in path's directory that the caller owns.
// The caller must know that no WriteFile for path is running (ipvsadm-save
// holds its host lock), or it would remove that one's file. It reports how
// many it removed.
func RemoveStale(path string) int {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if len(base) > 200 {
		base = base[:200]
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+".tmp-*"))
	removed := 0
	for _, m := range matches {
		fi, err := os.Lstat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
			continue
		}
		if os.Remove(m) == nil {
			removed++
		}
	}
	return removed
}

// globEscape quotes the characters filepath.Match gives a meaning.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
