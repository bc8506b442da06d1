package main

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// A namespace is a network namespace made for one measurement, so that
// nothing of an earlier one (a table, the destinations IPVS keeps in its
// per-namespace trash list for minutes after they are deleted and scans on
// every destination add) weighs on it.
//
// Programs are started in it by setns(2) on a locked OS thread, which
// children inherit: unlike `ip netns exec`, nothing but the measured
// program itself starts inside the timed region.
type namespace struct {
	name string
	fd   int
}

// newNamespace makes the namespace name with ip netns add (which also pins
// it under /run/netns) and brings its loopback up: with lo down, IPVS
// refuses IPv4 destinations.
func newNamespace(name string) (*namespace, error) {
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &namespace{name: name, fd: -1}
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		ns.delete()
		return nil, fmt.Errorf("ip -n %s link set lo up: %v: %s", name, err, out)
	}
	fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		ns.delete()
		return nil, fmt.Errorf("open namespace %s: %w", name, err)
	}
	ns.fd = fd
	return ns, nil
}

// do runs fn on an OS thread that has joined the namespace: the processes
// fn starts, and the ptrace calls it makes, come from that thread. The
// thread never returns to Go's pool: it is locked and never unlocked, so
// Go ends it when fn's goroutine returns, and no other goroutine ever runs
// in the namespace.
func (ns *namespace) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// delete removes the namespace. The kernel frees it, and IPVS its table,
// in a worker once the last reference is gone; the CPU-idle wait before
// the next measurement lets that work finish.
func (ns *namespace) delete() error {
	if ns.fd >= 0 {
		unix.Close(ns.fd)
		ns.fd = -1
	}
	if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", ns.name, err, out)
	}
	return nil
}
