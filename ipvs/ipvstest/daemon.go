//go:build linux

package ipvstest

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// daemon is the configuration of a running sync daemon
// (struct ipvs_sync_daemon_cfg) after the kernel filled in its defaults.
type daemon struct {
	ifname string
	syncID uint32
	maxLen uint16
	group  [16]byte // IPv4 in the first 4 bytes when group6 is false
	group6 bool
	port   uint16 // host order
	ttl    uint8
}

// interfaces are the network devices of the emulated namespace and their
// MTUs; a sync daemon must name one of them.
var interfaces = map[string]int{
	"lo":   65536,
	"eth0": 1500,
	"eth1": 1500,
}

// daemonRequest is what ip_vs_genl_new_daemon collects before it calls
// start_sync_thread; zero values mean "not given".
type daemonRequest struct {
	state  uint32
	cfg    daemon
	hasGrp bool
}

// startDaemon is start_sync_thread of ip_vs_sync.c: defaults first, then the
// interface, then the state.
func (k *Kernel) startDaemon(r daemonRequest) error {
	c := r.cfg
	if !r.hasGrp {
		c.group = [16]byte{}
		binary.BigEndian.PutUint32(c.group[:4], syncGroup)
		c.group6 = false
	}
	if c.port == 0 {
		c.port = syncPort
	}
	if c.ttl == 0 {
		c.ttl = 1
	}
	mtu, ok := interfaces[c.ifname]
	if !ok {
		return unix.ENODEV
	}
	// UDP over IPv4 or IPv6 headers.
	hlen := 20 + 8
	if c.group6 {
		hlen = 40 + 8
	}
	// A master sends datagrams sized for a 1500-byte MTU; a backup must
	// accept whatever the interface can carry.
	linkMTU, minLen := 1500, 1
	if r.state == stateBackup {
		linkMTU, minLen = min(max(mtu, 1500), 65535), 1024
	}
	if c.maxLen != 0 {
		c.maxLen = uint16(min(max(int(c.maxLen), minLen), 65535-hlen))
	} else {
		c.maxLen = uint16(linkMTU - hlen)
	}
	switch r.state {
	case stateMaster, stateBackup:
		if k.daemons[r.state-1] != nil {
			return unix.EEXIST
		}
		k.daemons[r.state-1] = &c
		return nil
	}
	return unix.EINVAL
}

// stopDaemon is stop_sync_thread.
func (k *Kernel) stopDaemon(state uint32) error {
	switch state {
	case stateMaster, stateBackup:
		if k.daemons[state-1] == nil {
			return unix.ESRCH
		}
		k.daemons[state-1] = nil
		return nil
	}
	return unix.EINVAL
}

// syncState is ipvs->sync_state: a bit per running daemon.
func (k *Kernel) syncState() uint32 {
	var st uint32
	if k.daemons[0] != nil {
		st |= stateMaster
	}
	if k.daemons[1] != nil {
		st |= stateBackup
	}
	return st
}
