package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// peakMemory runs c and returns the high-water mark of its resident set,
// VmHWM of /proc/PID/status, read when the process stops at its exit under
// ptrace (PTRACE_O_TRACEEXIT): its memory is still mapped then, and
// nothing else is counted. It must run on a locked OS thread (namespace.do
// gives one): ptrace requests come from the tracer thread.
//
// Why not wait4's ru_maxrss: when a program is started with vfork, as Go
// starts it, the kernel carries the RSS peak of the parent's address space
// into the child's record at exec (exec_mmap), so ru_maxrss is at least
// the launcher's own RSS.
//
// Only the process's first thread is traced; a multithreaded program that
// ends with exit_group from another thread still stops there, as the
// kernel drops the group-exit SIGKILL before the thread's exit.
func (b *bench) peakMemory(c command) (kib int64, out output, err error) {
	files, out, err := b.openStdio(c)
	if err != nil {
		return 0, out, err
	}
	defer closeAll(files)

	p, err := os.StartProcess(c.argv[0], c.argv, &os.ProcAttr{
		Files: files,
		// The child stops with SIGTRAP at its exec.
		Sys: &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		return 0, out, fmt.Errorf("%v: %w", c, err)
	}
	defer p.Release()
	pid := p.Pid

	kib = -1
	var ws unix.WaitStatus
	for first := true; ; first = false {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			return 0, out, fmt.Errorf("%v: wait4: %w", c, err)
		}
		switch {
		case ws.Exited() || ws.Signaled():
			if ws.Signaled() || ws.ExitStatus() != 0 {
				msg, _ := os.ReadFile(out.stderr)
				return 0, out, fmt.Errorf("%v: %v: %s", c, describe(ws), tail(msg))
			}
			if kib < 0 {
				return 0, out, fmt.Errorf("%v: exited without stopping at its exit under ptrace", c)
			}
			return kib, out, nil
		case !ws.Stopped():
			continue
		}
		sig := 0
		switch {
		case first:
			// The exec stop: from here on, stop at exit too; die with us.
			if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACEEXIT|unix.PTRACE_O_EXITKILL); err != nil {
				unix.Kill(pid, unix.SIGKILL)
				return 0, out, fmt.Errorf("%v: PTRACE_SETOPTIONS: %w", c, err)
			}
		case ws.StopSignal() == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXIT:
			kib, err = vmHWM(pid)
			if err != nil {
				unix.Kill(pid, unix.SIGKILL)
				return 0, out, fmt.Errorf("%v: %w", c, err)
			}
		default:
			// A signal for the process (Go's runtime sends itself SIGURG
			// to preempt): hand it on.
			sig = int(ws.StopSignal())
		}
		if err := unix.PtraceCont(pid, sig); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			return 0, out, fmt.Errorf("%v: PTRACE_CONT: %w", c, err)
		}
	}
}

// vmHWM reads the peak resident set size of process pid, in KiB.
func vmHWM(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

func describe(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}
