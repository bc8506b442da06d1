package hostlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTryLockExcludesAnotherOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	first, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	// A second open of the same file in the same process: flock locks
	// belong to the open file description, so this one must wait.
	_, err = TryLock(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock while locked: error = %v, want %v", err, ErrLocked)
	}
	if pe := new(fs.PathError); !errors.As(err, &pe) || pe.Path != path {
		t.Errorf("TryLock while locked: error %v does not name %s", err, path)
	}

	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	second, err := TryLock(path)
	if err != nil {
		t.Fatalf("TryLock after Unlock: %v", err)
	}
	if err := second.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLockWaitsForUnlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	first, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		l   *Held
		err error
	}
	acquired := make(chan result)
	go func() {
		l, err := Lock(path)
		acquired <- result{l, err}
	}()

	// Give the goroutine time to reach flock; whether it did or not, it
	// must not get the lock before the Unlock below.
	time.Sleep(50 * time.Millisecond)
	select {
	case r := <-acquired:
		t.Fatalf("second Lock returned while the first was held: %v", r.err)
	default:
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	r := <-acquired
	if r.err != nil {
		t.Fatalf("second Lock after Unlock: %v", r.err)
	}
	if err := r.l.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// TestHelperProcess is not a test: TestTryLockExcludesAnotherProcess runs
// the test binary again with HOSTLOCK_TRYLOCK set, to try the lock from
// another process.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("HOSTLOCK_TRYLOCK")
	if path == "" {
		t.Skip("helper process for TestTryLockExcludesAnotherProcess")
	}
	l, err := TryLock(path)
	switch {
	case errors.Is(err, ErrLocked):
		os.Exit(3)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l.Unlock()
	os.Exit(0)
}

func TestTryLockExcludesAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	tryLock := func() int {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), "HOSTLOCK_TRYLOCK="+path)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		t.Logf("helper: exit %d %s", cmd.ProcessState.ExitCode(), out)
		return cmd.ProcessState.ExitCode()
	}

	l, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := tryLock(); got != 3 {
		t.Errorf("other process's TryLock while locked: exit %d, want 3 (ErrLocked)", got)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if got := tryLock(); got != 0 {
		t.Errorf("other process's TryLock after Unlock: exit %d, want 0", got)
	}
}

func TestLockKeepsLockFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock")

	l, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode(); got&^0o600 != 0 {
		t.Errorf("new lock file's mode = %v, want at most 0600", got)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}

	// An existing lock file is neither truncated nor removed.
	const content = "pid 1234\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("lock file after Unlock: %v", err)
	}
	if diff := cmp.Diff(content, string(got)); diff != "" {
		t.Errorf("lock file's content (-want +got):\n%s", diff)
	}

	if err := l.Unlock(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Unlock: error = %v, want %v", err, os.ErrClosed)
	}
}

func TestLockRefusesPlantedFiles(t *testing.T) {
	tests := []struct {
		name string
		// plant puts something at path, and returns a name that Lock
		// must not create, if any.
		plant func(t *testing.T, path string) (mustNotExist string)
		want  error
	}{{
		name: "symlink to a file of ours",
		plant: func(t *testing.T, path string) string {
			target := filepath.Join(t.TempDir(), "target")
			if err := os.WriteFile(target, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			return ""
		},
		want: syscall.ELOOP,
	}, {
		name: "dangling symlink",
		plant: func(t *testing.T, path string) string {
			target := filepath.Join(t.TempDir(), "created-through-link")
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			return target
		},
		want: syscall.ELOOP,
	}, {
		name: "fifo",
		plant: func(t *testing.T, path string) string {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			return ""
		},
		want: errNotRegular,
	}, {
		name: "directory",
		plant: func(t *testing.T, path string) string {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			return ""
		},
		want: syscall.EISDIR,
	}, {
		name: "someone else's file",
		plant: func(t *testing.T, path string) string {
			if os.Geteuid() != 0 {
				t.Skip("only root can plant a file owned by someone else")
			}
			if err := os.WriteFile(path, nil, 0o666); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(path, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return ""
		},
		want: errNotOwner,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lock")
			mustNotExist := tt.plant(t, path)
			before, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name string
				lock func(string) (*Held, error)
			}{{"Lock", Lock}, {"TryLock", TryLock}} {
				l, err := f.lock(path)
				if err == nil {
					l.Unlock()
				}
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: error = %v, want %v", f.name, err, tt.want)
				}
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Path != path {
					t.Errorf("%s: error %v does not name %s", f.name, err, path)
				}
			}
			after, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(before, after) || before.Mode() != after.Mode() {
				t.Errorf("%s was replaced or changed: %v, now %v", path, before.Mode(), after.Mode())
			}
			if mustNotExist != "" {
				if _, err := os.Lstat(mustNotExist); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s was created through the link: Lstat error = %v", mustNotExist, err)
				}
			}
		})
	}
}
