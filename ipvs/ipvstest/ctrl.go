//go:build linux

package ipvstest

import (
	"golang.org/x/sys/unix"
)

// This file answers the generic netlink controller (nlctrl), which clients
// ask for the IPVS family's ID. Only the IPVS family is known to it.

// ctrlRcv handles a request to nlctrl, as genetlink.c's ctrl_getfamily and
// ctrl_dumpfamily do for the one family there is. The caller holds k.mu.
func (k *Kernel) ctrlRcv(s *socket, h msgHeader, msg []byte) error {
	if len(msg) < nlmsgHdrLen+genlHdrLen {
		return unix.EINVAL
	}
	if msg[nlmsgHdrLen] != ctrlCmdGetFamily {
		return unix.EOPNOTSUPP
	}
	if h.dump() {
		return k.startDump(s, &dumpState{family: genlIDCtrl, cmd: ctrlCmdGetFamily, seq: h.seq, port: s.port})
	}
	a, err := parseAttrs(msg[nlmsgHdrLen+genlHdrLen:], ctrlPolicy)
	if err != nil {
		return err
	}
	found, err := false, error(unix.EINVAL)
	if a.has(ctrlAttrFamilyID) {
		found, err = a.u16(ctrlAttrFamilyID) == ipvsFamilyID, unix.ENOENT
	}
	if a.has(ctrlAttrFamilyNam) {
		found, err = a.str(ctrlAttrFamilyNam) == ipvsFamilyName, unix.ENOENT
	}
	if !found {
		return err
	}
	s.queue = append(s.queue, nlmsg(genlIDCtrl, 0, h.seq, s.port, familyPayload()))
	return nil
}

// familyPayload is ctrl_fill_info for IPVS: a CTRL_CMD_NEWFAMILY message with
// the family's name, ID, version, header size, maximum attribute and its
// operations (all of which require CAP_NET_ADMIN).
func familyPayload() []byte {
	var w nlaWriter
	w.str(ctrlAttrFamilyNam, ipvsFamilyName)
	w.u16(ctrlAttrFamilyID, ipvsFamilyID)
	w.u32(ctrlAttrVersion, ipvsVersion)
	w.u32(ctrlAttrHdrSize, 0)
	w.u32(ctrlAttrMaxAttr, cmdAttrMax)
	ops := w.nestStart(ctrlAttrOps)
	for i, cmd := range ipvsOpOrder {
		op := ipvsOps[cmd]
		flags := uint32(genlAdminPerm | genlCapHasPol)
		if op.doit {
			flags |= genlCapDo
		}
		if op.dumpit {
			flags |= genlCapDump
		}
		n := w.nestStart(uint16(i + 1))
		w.u32(ctrlAttrOpID, uint32(cmd))
		w.u32(ctrlAttrOpFlags, flags)
		w.nestEnd(n)
	}
	w.nestEnd(ops)
	return genlPayload(ctrlCmdNewFamily, ctrlVersion, w.b)
}

// fillCtrlDump lists the known families.
func fillCtrlDump(d *dumpState, c *chunk) {
	if d.args[0] != 0 {
		return
	}
	if c.add(nlmsg(genlIDCtrl, nlmMulti, d.seq, d.port, familyPayload())) {
		d.args[0] = 1
	}
}
