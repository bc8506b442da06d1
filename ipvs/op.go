package ipvs

import "strconv"

// A Command is a command of the IPVS generic netlink family, with the values
// of the kernel's IPVS_CMD_*.
type Command uint8

// The commands of the IPVS family.
const (
	CmdNewService     Command = 1
	CmdSetService     Command = 2
	CmdDelService     Command = 3
	CmdGetService     Command = 4
	CmdNewDestination Command = 5
	CmdSetDestination Command = 6
	CmdDelDestination Command = 7
	CmdGetDestination Command = 8
	CmdNewDaemon      Command = 9
	CmdDelDaemon      Command = 10
	CmdGetDaemon      Command = 11
	CmdSetConfig      Command = 12
	CmdGetConfig      Command = 13
	CmdSetInfo        Command = 14
	CmdGetInfo        Command = 15
	CmdZero           Command = 16
	CmdFlush          Command = 17
)

var commandNames = [...]string{
	CmdNewService:     "new-service",
	CmdSetService:     "set-service",
	CmdDelService:     "del-service",
	CmdGetService:     "get-service",
	CmdNewDestination: "new-destination",
	CmdSetDestination: "set-destination",
	CmdDelDestination: "del-destination",
	CmdGetDestination: "get-destination",
	CmdNewDaemon:      "new-daemon",
	CmdDelDaemon:      "del-daemon",
	CmdGetDaemon:      "get-daemon",
	CmdSetConfig:      "set-config",
	CmdGetConfig:      "get-config",
	CmdSetInfo:        "set-info",
	CmdGetInfo:        "get-info",
	CmdZero:           "zero",
	CmdFlush:          "flush",
}

func (c Command) String() string {
	if int(c) < len(commandNames) && commandNames[c] != "" {
		return commandNames[c]
	}
	return "Command(" + strconv.Itoa(int(c)) + ")"
}

// An Op is one write to the IPVS table, for Client.Apply. Command says which;
// the fields it needs are:
//
//	CmdNewService, CmdSetService, CmdDelService  Service
//	CmdNewDestination, CmdSetDestination,
//	CmdDelDestination                            Service (its key) and Destination
//	CmdNewDaemon, CmdDelDaemon                   Daemon (CmdDelDaemon: its State)
//	CmdSetConfig                                 Timeouts
//	CmdZero                                      Service, or the zero Service for all
//	CmdFlush                                     nothing
type Op struct {
	Command     Command
	Service     Service
	Destination Destination
	Daemon      Daemon
	Timeouts    Timeouts
}

// Validate refuses an Op whose values the kernel would refuse for their
// shape, with an error that answers errors.Is(err, ErrInvalid). Apply and
// Writer check every op so before sending it; a caller that streams writes
// can check them all first, so that nothing is sent if any is malformed.
func (op Op) Validate() error {
	switch op.Command {
	case CmdNewService, CmdSetService:
		return op.Service.validate()
	case CmdDelService:
		return op.Service.validateKey()
	case CmdNewDestination, CmdSetDestination:
		if err := op.Service.validateKey(); err != nil {
			return err
		}
		return op.Destination.validate()
	case CmdDelDestination:
		if err := op.Service.validateKey(); err != nil {
			return err
		}
		return op.Destination.validateKey()
	case CmdNewDaemon:
		return op.Daemon.validate()
	case CmdDelDaemon:
		if op.Daemon.State != Master && op.Daemon.State != Backup {
			return invalidf("daemon state %v is neither master nor backup", op.Daemon.State)
		}
		return nil
	case CmdSetConfig:
		return op.Timeouts.validate()
	case CmdZero:
		if op.Service == (Service{}) {
			return nil
		}
		return op.Service.validateKey()
	case CmdFlush:
		return nil
	}
	return invalidf("%v is not a write command", op.Command)
}
