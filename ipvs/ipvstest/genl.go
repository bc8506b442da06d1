//go:build linux

package ipvstest

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// This file is the IPVS generic netlink family of ip_vs_ctl.c: how each
// command is decoded, checked and answered.

// ipvsOp describes an entry of ip_vs_genl_ops.
type ipvsOp struct {
	doit, dumpit bool
	modifies     bool
}

var ipvsOps = map[uint8]ipvsOp{
	cmdNewService: {doit: true, modifies: true},
	cmdSetService: {doit: true, modifies: true},
	cmdDelService: {doit: true, modifies: true},
	cmdGetService: {doit: true, dumpit: true},
	cmdNewDest:    {doit: true, modifies: true},
	cmdSetDest:    {doit: true, modifies: true},
	cmdDelDest:    {doit: true, modifies: true},
	cmdGetDest:    {dumpit: true},
	cmdNewDaemon:  {doit: true, modifies: true},
	cmdDelDaemon:  {doit: true, modifies: true},
	cmdGetDaemon:  {dumpit: true},
	cmdSetConfig:  {doit: true, modifies: true},
	cmdGetConfig:  {doit: true},
	cmdGetInfo:    {doit: true},
	cmdZero:       {doit: true, modifies: true},
	cmdFlush:      {doit: true, modifies: true},
}

// ipvsOpOrder is the order of ip_vs_genl_ops, as the family lookup lists it.
var ipvsOpOrder = []uint8{
	cmdNewService, cmdSetService, cmdDelService, cmdGetService,
	cmdNewDest, cmdSetDest, cmdDelDest, cmdGetDest,
	cmdNewDaemon, cmdDelDaemon, cmdGetDaemon,
	cmdSetConfig, cmdGetConfig, cmdGetInfo, cmdZero, cmdFlush,
}

// doit runs a non-dump IPVS request whose top-level attributes are a and
// returns the attributes of the reply message, if the command has one.
// The caller holds k.mu.
func (k *Kernel) doit(cmd uint8, a attrs) (replyCmd uint8, reply []byte, err error) {
	switch cmd {
	case cmdNewDaemon, cmdDelDaemon:
		err = k.setDaemon(cmd, a)
	case cmdGetService, cmdGetConfig, cmdGetInfo:
		return k.getCmd(cmd, a)
	default:
		err = k.setCmd(cmd, a)
	}
	if err == nil && ipvsOps[cmd].modifies {
		k.writes++
	}
	return 0, nil, err
}

// parseService is ip_vs_genl_parse_service: the identifying attributes are
// mandatory; full also requires what NEW_SERVICE and SET_SERVICE need. The
// service the identity names is returned even when full checks fail.
func (k *Kernel) parseService(nla []byte, full bool) (svcSpec, *service, error) {
	var u svcSpec
	if nla == nil {
		return u, nil, unix.EINVAL
	}
	a, err := parseAttrs(nla, svcPolicy)
	if err != nil {
		return u, nil, unix.EINVAL
	}
	if !a.has(svcAttrAF) || !(a.has(svcAttrFWMark) ||
		(a.has(svcAttrPort) && a.has(svcAttrProtocol) && a.has(svcAttrAddr))) {
		return u, nil, unix.EINVAL
	}
	u.af = a.u16(svcAttrAF)
	if !afValid(u.af) {
		return u, nil, unix.EAFNOSUPPORT
	}
	if a.has(svcAttrFWMark) {
		// A fwmark service is a TCP service to the kernel, whatever
		// PROTOCOL says; a FWMARK of 0 names the TCP service 0.0.0.0:0.
		u.protocol = protoTCP
		u.fwmark = a.u32(svcAttrFWMark)
	} else {
		u.protocol = a.u16(svcAttrProtocol)
		u.addr = a.bytes16(svcAttrAddr)
		u.port = a.be16(svcAttrPort)
	}
	svc := k.findService(u.af, u.protocol, u.addr, u.port, u.fwmark)
	if !full {
		return u, svc, nil
	}
	if !a.has(svcAttrSched) || !a.has(svcAttrFlags) || !a.has(svcAttrTimeout) || !a.has(svcAttrNetmask) {
		return u, svc, unix.EINVAL
	}
	var fl [8]byte // struct ip_vs_flags, zero-filled when short
	copy(fl[:], a[svcAttrFlags])
	flags := binary.NativeEndian.Uint32(fl[0:4])
	mask := binary.NativeEndian.Uint32(fl[4:8])
	if svc != nil {
		u.flags = svc.flags
	}
	u.flags = u.flags&^mask | flags&mask
	u.sched = a.str(svcAttrSched)
	if a.has(svcAttrPEName) {
		u.pe = a.str(svcAttrPEName)
	}
	u.timeout = a.u32(svcAttrTimeout)
	u.netmask = [4]byte(a[svcAttrNetmask][:4])
	return u, svc, nil
}

// parseDest is ip_vs_genl_parse_dest. An absent ADDR_FAMILY leaves af 0,
// which the caller replaces by the service's family.
func parseDest(nla []byte, full bool) (destSpec, error) {
	var u destSpec
	if nla == nil {
		return u, unix.EINVAL
	}
	a, err := parseAttrs(nla, destPolicy)
	if err != nil {
		return u, unix.EINVAL
	}
	if !a.has(destAttrAddr) || !a.has(destAttrPort) {
		return u, unix.EINVAL
	}
	u.addr = a.bytes16(destAttrAddr)
	u.port = a.be16(destAttrPort)
	if a.has(destAttrAddrFamily) {
		u.af = a.u16(destAttrAddrFamily)
	}
	if !full {
		return u, nil
	}
	if !a.has(destAttrFwdMethod) || !a.has(destAttrWeight) || !a.has(destAttrUThresh) || !a.has(destAttrLThresh) {
		return u, unix.EINVAL
	}
	u.fwd = a.u32(destAttrFwdMethod) & connFwdMask
	u.weight = int32(a.u32(destAttrWeight))
	u.uThresh = a.u32(destAttrUThresh)
	u.lThresh = a.u32(destAttrLThresh)
	if a.has(destAttrTunType) {
		u.tunType = a.u8(destAttrTunType)
	}
	if a.has(destAttrTunPort) {
		u.tunPort = a.be16(destAttrTunPort)
	}
	if a.has(destAttrTunFlags) {
		u.tunFlags = a.u16(destAttrTunFlags)
	}
	return u, nil
}

// setCmd is ip_vs_genl_set_cmd: FLUSH, SET_CONFIG, ZERO and every service
// and destination change.
func (k *Kernel) setCmd(cmd uint8, a attrs) error {
	switch {
	case cmd == cmdFlush:
		k.services = nil
		return nil
	case cmd == cmdSetConfig:
		return k.setConfig(a)
	case cmd == cmdZero && !a.has(cmdAttrService):
		for _, s := range k.services {
			zeroService(s)
		}
		return nil
	}

	full := cmd == cmdNewService || cmd == cmdSetService
	u, svc, err := k.parseService(a[cmdAttrService], full)
	if err != nil {
		return err
	}
	if cmd != cmdNewService && svc == nil {
		return unix.ESRCH
	}

	var ud destSpec
	if cmd == cmdNewDest || cmd == cmdSetDest || cmd == cmdDelDest {
		ud, err = parseDest(a[cmdAttrDest], cmd != cmdDelDest)
		if err != nil {
			return err
		}
		if ud.af == 0 {
			ud.af = svc.af
		}
		if !afValid(ud.af) {
			return unix.EAFNOSUPPORT
		}
		if ud.af != svc.af && cmd != cmdDelDest {
			// The sync protocol cannot carry mixed-family services,
			// and only tunnelling can forward across families.
			if k.syncState() != 0 || ud.fwd != connFwdTunnel {
				return unix.EINVAL
			}
		}
	}

	switch cmd {
	case cmdNewService:
		if svc != nil {
			return unix.EEXIST
		}
		return k.addService(u)
	case cmdSetService:
		return k.editService(svc, u)
	case cmdDelService:
		k.delService(svc)
		return nil
	case cmdNewDest:
		return k.addDest(svc, ud)
	case cmdSetDest:
		return k.editDest(svc, ud)
	case cmdDelDest:
		return k.delDest(svc, ud)
	case cmdZero:
		zeroService(svc)
		return nil
	}
	return unix.EINVAL
}

// setConfig is ip_vs_genl_set_config with ip_vs_set_timeout: absent or zero
// values keep the current timeout; every value must fit INT_MAX jiffies.
func (k *Kernel) setConfig(a attrs) error {
	t := k.timeouts
	if a.has(cmdAttrTimeoutTCP) {
		t.tcp = int32(a.u32(cmdAttrTimeoutTCP))
	}
	if a.has(cmdAttrTimeoutFin) {
		t.tcpFin = int32(a.u32(cmdAttrTimeoutFin))
	}
	if a.has(cmdAttrTimeoutUDP) {
		t.udp = int32(a.u32(cmdAttrTimeoutUDP))
	}
	for _, v := range []int32{t.tcp, t.tcpFin, t.udp} {
		if v < 0 || v > intMax/hz {
			return unix.EINVAL
		}
	}
	if t.tcp != 0 {
		k.timeouts.tcp = t.tcp
	}
	if t.tcpFin != 0 {
		k.timeouts.tcpFin = t.tcpFin
	}
	if t.udp != 0 {
		k.timeouts.udp = t.udp
	}
	return nil
}

// setDaemon is ip_vs_genl_set_daemon: any trouble with the DAEMON nest
// itself is EINVAL.
func (k *Kernel) setDaemon(cmd uint8, a attrs) error {
	if !a.has(cmdAttrDaemon) {
		return unix.EINVAL
	}
	d, err := parseAttrs(a[cmdAttrDaemon], daemonPolicy)
	if err != nil {
		return unix.EINVAL
	}
	if cmd == cmdDelDaemon {
		if !d.has(daemonAttrState) {
			return unix.EINVAL
		}
		return k.stopDaemon(d.u32(daemonAttrState))
	}
	return k.newDaemon(d)
}

// newDaemon is ip_vs_genl_new_daemon.
func (k *Kernel) newDaemon(d attrs) error {
	if !d.has(daemonAttrState) || !d.has(daemonAttrMcastIfn) || !d.has(daemonAttrSyncID) {
		return unix.EINVAL
	}
	var r daemonRequest
	r.state = d.u32(daemonAttrState)
	r.cfg.ifname = d.str(daemonAttrMcastIfn)
	r.cfg.syncID = d.u32(daemonAttrSyncID)
	if d.has(daemonAttrSyncMaxLen) {
		r.cfg.maxLen = d.u16(daemonAttrSyncMaxLen)
	}
	switch {
	case d.has(daemonAttrMcastGroup):
		copy(r.cfg.group[:4], d[daemonAttrMcastGroup][:4])
		if r.cfg.group[0]&0xf0 != 0xe0 {
			return unix.EINVAL
		}
		r.hasGrp = true
	case d.has(daemonAttrMcastGrp6):
		copy(r.cfg.group[:], d[daemonAttrMcastGrp6][:16])
		if r.cfg.group[0] != 0xff {
			return unix.EINVAL
		}
		r.cfg.group6 = true
		r.hasGrp = true
	}
	if d.has(daemonAttrMcastPort) {
		r.cfg.port = d.u16(daemonAttrMcastPort)
	}
	if d.has(daemonAttrMcastTTL) {
		r.cfg.ttl = d.u8(daemonAttrMcastTTL)
	}
	if k.mixedDests() > 0 {
		return unix.EINVAL
	}
	return k.startDaemon(r)
}

// getCmd is ip_vs_genl_get_cmd: GET_SERVICE, GET_CONFIG and GET_INFO each
// answer with one message.
func (k *Kernel) getCmd(cmd uint8, a attrs) (uint8, []byte, error) {
	var w nlaWriter
	switch cmd {
	case cmdGetService:
		_, svc, err := k.parseService(a[cmdAttrService], false)
		if err != nil {
			return 0, nil, err
		}
		if svc == nil {
			return 0, nil, unix.ESRCH
		}
		k.putService(&w, svc)
		return cmdNewService, w.b, nil
	case cmdGetConfig:
		w.u32(cmdAttrTimeoutTCP, uint32(k.timeouts.tcp))
		w.u32(cmdAttrTimeoutFin, uint32(k.timeouts.tcpFin))
		w.u32(cmdAttrTimeoutUDP, uint32(k.timeouts.udp))
		return cmdSetConfig, w.b, nil
	case cmdGetInfo:
		w.u32(infoAttrVersion, ipvsVersionCode)
		w.u32(infoAttrConnTabSize, connTabSize)
		return cmdSetInfo, w.b, nil
	}
	return 0, nil, unix.EINVAL
}

// putService is ip_vs_genl_fill_service.
func (k *Kernel) putService(w *nlaWriter, s *service) {
	n := w.nestStart(cmdAttrService)
	w.u16(svcAttrAF, s.af)
	if s.fwmark != 0 {
		w.u32(svcAttrFWMark, s.fwmark)
	} else {
		w.u16(svcAttrProtocol, s.protocol)
		w.put(svcAttrAddr, s.addr[:])
		w.be16(svcAttrPort, s.port)
	}
	sched := s.sched
	if sched == "" {
		sched = "none"
	}
	w.str(svcAttrSched, sched)
	if s.pe != "" {
		w.str(svcAttrPEName, s.pe)
	}
	fl := binary.NativeEndian.AppendUint32(nil, s.flags)
	fl = binary.NativeEndian.AppendUint32(fl, ^uint32(0))
	w.put(svcAttrFlags, fl)
	w.u32(svcAttrTimeout, s.timeout/hz)
	w.put(svcAttrNetmask, s.netmask[:])
	k.putStats(w, svcAttrStats, svcAttrStats64, s.stats)
	w.nestEnd(n)
}

// putDest is ip_vs_genl_fill_dest.
func (k *Kernel) putDest(w *nlaWriter, d *dest) {
	n := w.nestStart(cmdAttrDest)
	w.put(destAttrAddr, d.addr[:])
	w.be16(destAttrPort, d.port)
	w.u32(destAttrFwdMethod, d.fwd)
	w.u32(destAttrWeight, uint32(d.weight))
	w.u8(destAttrTunType, d.tunType)
	w.be16(destAttrTunPort, d.tunPort)
	w.u16(destAttrTunFlags, d.tunFlags)
	w.u32(destAttrUThresh, d.uThresh)
	w.u32(destAttrLThresh, d.lThresh)
	w.u32(destAttrActive, d.active)
	w.u32(destAttrInact, d.inactive)
	w.u32(destAttrPersist, d.persist)
	w.u16(destAttrAddrFamily, d.af)
	k.putStats(w, destAttrStats, destAttrStats64, d.stats)
	w.nestEnd(n)
}

// putStats is ip_vs_genl_fill_stats (counters cut to 32 bits, bytes kept
// whole) followed by ip_vs_genl_fill_stats64 unless disabled.
func (k *Kernel) putStats(w *nlaWriter, typ32, typ64 uint16, s Stats) {
	n := w.nestStart(typ32)
	w.u32(statsAttrConns, uint32(s.Conns))
	w.u32(statsAttrInPkts, uint32(s.InPkts))
	w.u32(statsAttrOutPkts, uint32(s.OutPkts))
	w.u64(statsAttrInBytes, s.InBytes)
	w.u64(statsAttrOutBytes, s.OutBytes)
	w.u32(statsAttrCPS, uint32(s.CPS))
	w.u32(statsAttrInPPS, uint32(s.InPPS))
	w.u32(statsAttrOutPPS, uint32(s.OutPPS))
	w.u32(statsAttrInBPS, uint32(s.InBPS))
	w.u32(statsAttrOutBPS, uint32(s.OutBPS))
	w.nestEnd(n)
	if !k.stats64 {
		return
	}
	n = w.nestStart(typ64)
	for i, v := range []uint64{s.Conns, s.InPkts, s.OutPkts, s.InBytes, s.OutBytes,
		s.CPS, s.InPPS, s.OutPPS, s.InBPS, s.OutBPS} {
		w.u64(uint16(statsAttrConns+i), v)
	}
	w.nestEnd(n)
}

// putDaemon is ip_vs_genl_fill_daemon.
func putDaemon(w *nlaWriter, state uint32, d *daemon) {
	n := w.nestStart(cmdAttrDaemon)
	w.u32(daemonAttrState, state)
	w.str(daemonAttrMcastIfn, d.ifname)
	w.u32(daemonAttrSyncID, d.syncID)
	w.u16(daemonAttrSyncMaxLen, d.maxLen)
	w.u16(daemonAttrMcastPort, d.port)
	w.u8(daemonAttrMcastTTL, d.ttl)
	if d.group6 {
		w.put(daemonAttrMcastGrp6, d.group[:])
	} else {
		w.put(daemonAttrMcastGroup, d.group[:4])
	}
	w.nestEnd(n)
}

// fillDump adds the messages of an IPVS dump to c, resuming after those
// already sent, as ip_vs_genl_dump_services, ip_vs_genl_dump_dests and
// ip_vs_genl_dump_daemons do with cb->args.
func (k *Kernel) fillDump(d *dumpState, c *chunk) {
	msg := func(cmd uint8, put func(w *nlaWriter)) []byte {
		var w nlaWriter
		put(&w)
		return nlmsg(ipvsFamilyID, nlmMulti, d.seq, d.port, genlPayload(cmd, ipvsVersion, w.b))
	}
	switch d.cmd {
	case cmdGetService:
		idx := 0
		for _, s := range k.dumpOrder() {
			idx++
			if idx <= d.args[0] {
				continue
			}
			if !c.add(msg(cmdNewService, func(w *nlaWriter) { k.putService(w, s) })) {
				idx--
				break
			}
		}
		d.args[0] = idx
	case cmdGetDest:
		// The kernel parses the request again for every datagram; a
		// request it cannot use, or a service that is gone, ends the
		// dump quietly.
		a, err := parseAttrs(d.req, cmdPolicy)
		if err != nil {
			return
		}
		_, svc, err := k.parseService(a[cmdAttrService], false)
		if err != nil || svc == nil {
			return
		}
		idx := 0
		for _, x := range svc.dests {
			idx++
			if idx <= d.args[0] {
				continue
			}
			if !c.add(msg(cmdNewDest, func(w *nlaWriter) { k.putDest(w, x) })) {
				idx--
				break
			}
		}
		d.args[0] = idx
	case cmdGetDaemon:
		for i, state := range []uint32{stateMaster, stateBackup} {
			dm := k.daemons[i]
			if dm == nil || d.args[i] != 0 {
				continue
			}
			if !c.add(msg(cmdNewDaemon, func(w *nlaWriter) { putDaemon(w, state, dm) })) {
				return
			}
			d.args[i] = 1
		}
	}
}
