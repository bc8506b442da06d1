package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// A command is a program and its arguments, with standard input from a
// file (or /dev/null).
type command struct {
	argv  []string
	stdin string
}

func (c command) String() string {
	s := fmt.Sprint(c.argv)
	s = s[1 : len(s)-1]
	if c.stdin != "" {
		s += " < " + filepath.Base(c.stdin)
	}
	return s
}

// output is where a command's standard output and error went.
type output struct {
	stdout, stderr string
}

func (o output) read() ([]byte, error) { return os.ReadFile(o.stdout) }

// timed runs c to its end and returns the time from just before fork to
// just after wait4 (time.Now is monotonic): the whole process, its
// start-up and exit included, as a script calling it would wait.
//
// Standard input is the file itself and output goes to files in b.work, so
// the driver has no pipe to drain while the clock runs. A command that
// exits with a status other than 0 is an error.
func (b *bench) timed(c command) (time.Duration, output, error) {
	d, out, err := b.run(c)
	if err == nil {
		b.busyAfter, b.busyRatio = b.hostBusy()
	}
	return d, out, err
}

// run runs c as timed says, without probing the host afterwards.
func (b *bench) run(c command) (time.Duration, output, error) {
	files, out, err := b.openStdio(c)
	if err != nil {
		return 0, out, err
	}
	defer closeAll(files)
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = files[0], files[1], files[2]

	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)

	if err != nil {
		msg, _ := os.ReadFile(out.stderr)
		return elapsed, out, fmt.Errorf("%v: %v: %s", c, err, tail(msg))
	}
	return elapsed, out, nil
}

// untimed runs c as timed does and returns its standard output.
func (b *bench) untimed(c command) ([]byte, error) {
	_, out, err := b.run(c)
	if err != nil {
		return nil, err
	}
	return out.read()
}

func orDevNull(path string) string {
	if path == "" {
		return os.DevNull
	}
	return path
}

// tail is the end of a command's error output, enough to say what failed.
func tail(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) > 600 {
		b = append([]byte("..."), b[len(b)-600:]...)
	}
	return b
}

// openStdio opens c's standard input (its file, or /dev/null) and creates
// the files of its output in the work folder, before any clock starts.
func (b *bench) openStdio(c command) ([]*os.File, output, error) {
	out := output{stdout: filepath.Join(b.work, "stdout"), stderr: filepath.Join(b.work, "stderr")}
	stdin, err := os.Open(orDevNull(c.stdin))
	if err != nil {
		return nil, out, err
	}
	files := []*os.File{stdin}
	for _, name := range []string{out.stdout, out.stderr} {
		f, err := os.Create(name)
		if err != nil {
			closeAll(files)
			return nil, out, err
		}
		files = append(files, f)
	}
	return files, out, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
