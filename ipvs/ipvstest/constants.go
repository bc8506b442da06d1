//go:build linux

package ipvstest

// Kernel-side constants, written down from the Linux 6.1 uapi headers
// (linux/netlink.h, linux/genetlink.h, linux/ip_vs.h) and the values the 6.1
// kernel compiles in. They are deliberately not shared with the client package:
// a wrong constant there must not be mirrored here.

// Netlink message layer (linux/netlink.h).
const (
	nlmsgHdrLen  = 16
	nlmsgError   = 0x2
	nlmsgDone    = 0x3
	nlmsgMinType = 0x10

	nlmRequest = 0x1
	nlmMulti   = 0x2
	nlmAck     = 0x4
	nlmRoot    = 0x100
	nlmMatch   = 0x200
	nlmDump    = nlmRoot | nlmMatch
	nlmCapped  = 0x100 // in NLMSG_ERROR replies

	nlaHdrLen  = 4
	nlaTypeMsk = 0x3fff // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// Generic netlink (linux/genetlink.h) and its controller family.
const (
	genlHdrLen = 4
	genlIDCtrl = 0x10

	ctrlVersion       = 2
	ctrlCmdNewFamily  = 1
	ctrlCmdGetFamily  = 3
	ctrlAttrFamilyID  = 1
	ctrlAttrFamilyNam = 2
	ctrlAttrVersion   = 3
	ctrlAttrHdrSize   = 4
	ctrlAttrMaxAttr   = 5
	ctrlAttrOps       = 6
	ctrlAttrOpID      = 1
	ctrlAttrOpFlags   = 2
	genlNameSize      = 16

	genlAdminPerm = 0x01
	genlCapDo     = 0x02
	genlCapDump   = 0x04
	genlCapHasPol = 0x08
)

// The IPVS family as registered by ip_vs_ctl.c. The real family ID is
// allocated at module load; any value above the reserved range will do.
const (
	ipvsFamilyID   = 0x1b
	ipvsFamilyName = "IPVS"
	ipvsVersion    = 1
)

// IPVS commands (enum IPVS_CMD_*).
const (
	cmdNewService = 1
	cmdSetService = 2
	cmdDelService = 3
	cmdGetService = 4
	cmdNewDest    = 5
	cmdSetDest    = 6
	cmdDelDest    = 7
	cmdGetDest    = 8
	cmdNewDaemon  = 9
	cmdDelDaemon  = 10
	cmdGetDaemon  = 11
	cmdSetConfig  = 12
	cmdGetConfig  = 13
	cmdSetInfo    = 14
	cmdGetInfo    = 15
	cmdZero       = 16
	cmdFlush      = 17

	// The family's resv_start_op: commands from here on must have a zero
	// reserved field in the genl header.
	cmdResvStart = cmdFlush + 1
)

// Top-level attributes (IPVS_CMD_ATTR_*).
const (
	cmdAttrService    = 1
	cmdAttrDest       = 2
	cmdAttrDaemon     = 3
	cmdAttrTimeoutTCP = 4
	cmdAttrTimeoutFin = 5
	cmdAttrTimeoutUDP = 6
	cmdAttrMax        = 6
)

// Service attributes (IPVS_SVC_ATTR_*).
const (
	svcAttrAF       = 1
	svcAttrProtocol = 2
	svcAttrAddr     = 3
	svcAttrPort     = 4
	svcAttrFWMark   = 5
	svcAttrSched    = 6
	svcAttrFlags    = 7
	svcAttrTimeout  = 8
	svcAttrNetmask  = 9
	svcAttrStats    = 10
	svcAttrPEName   = 11
	svcAttrStats64  = 12
)

// Destination attributes (IPVS_DEST_ATTR_*).
const (
	destAttrAddr       = 1
	destAttrPort       = 2
	destAttrFwdMethod  = 3
	destAttrWeight     = 4
	destAttrUThresh    = 5
	destAttrLThresh    = 6
	destAttrActive     = 7
	destAttrInact      = 8
	destAttrPersist    = 9
	destAttrStats      = 10
	destAttrAddrFamily = 11
	destAttrStats64    = 12
	destAttrTunType    = 13
	destAttrTunPort    = 14
	destAttrTunFlags   = 15
)

// Sync daemon attributes (IPVS_DAEMON_ATTR_*).
const (
	daemonAttrState      = 1
	daemonAttrMcastIfn   = 2
	daemonAttrSyncID     = 3
	daemonAttrSyncMaxLen = 4
	daemonAttrMcastGroup = 5
	daemonAttrMcastGrp6  = 6
	daemonAttrMcastPort  = 7
	daemonAttrMcastTTL   = 8
)

// Statistics attributes (IPVS_STATS_ATTR_*), and info attributes.
const (
	statsAttrConns    = 1
	statsAttrInPkts   = 2
	statsAttrOutPkts  = 3
	statsAttrInBytes  = 4
	statsAttrOutBytes = 5
	statsAttrCPS      = 6
	statsAttrInPPS    = 7
	statsAttrOutPPS   = 8
	statsAttrInBPS    = 9
	statsAttrOutBPS   = 10

	infoAttrVersion     = 1
	infoAttrConnTabSize = 2
)

// Values the kernel works with.
const (
	afInet  = 2
	afInet6 = 10

	protoTCP = 6

	svcFlagHashed = 0x2

	connFwdMask   = 0x7
	connFwdTunnel = 0x2
	tunTypeGUE    = 1

	stateMaster = 1
	stateBackup = 2

	// Debian's 6.1 kernels are built with CONFIG_HZ=250; the service
	// persistence timeout is kept in jiffies and SET_CONFIG's bound is
	// INT_MAX/HZ, so HZ shows through the interface.
	hz     = 250
	intMax = 1<<31 - 1

	ipvsVersionCode = 0x010201 // IP_VS_VERSION_CODE, 1.2.1
	connTabSize     = 1 << 12  // CONFIG_IP_VS_TAB_BITS=12

	syncPort  = 8848       // IP_VS_SYNC_PORT
	syncGroup = 0xe0000051 // IP_VS_SYNC_GROUP, 224.0.0.81

	ifNameSize    = 16 // IP_VS_IFNAME_MAXLEN
	schedNameSize = 16 // IP_VS_SCHEDNAME_MAXLEN
	peNameSize    = 16 // IP_VS_PENAME_MAXLEN

	// NLMSG_GOODSIZE on 4 KiB pages: the size of the buffer a netlink dump
	// fills before it is handed to the socket as one datagram.
	dumpDatagramSize = 3776
)
