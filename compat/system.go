package compat

import (
	"io"
	"os"
	"os/exec"

	"github.com/lvsgo/ipvsadm/ipvs"
)

// modprobePath is the program ipvsadm runs to load ip_vs.
const modprobePath = "/sbin/modprobe"

// SystemEnv is the Env of a process: its arguments and standard streams,
// the kernel's IPVS, the system's name lookups and /proc.
func SystemEnv() Env {
	return Env{
		Args:   os.Args,
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Dial:   ipvs.New,
		Modprobe: func() error {
			// modprobe writes its own messages to our streams, as it
			// does under ipvsadm.
			cmd := exec.Command(modprobePath, "--", "ip_vs")
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			return cmd.Run()
		},
		Names: SystemNames(),
		OpenConnections: func() (io.ReadCloser, error) {
			return os.Open(procConnections)
		},
	}
}
