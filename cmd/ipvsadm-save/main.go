// Command ipvsadm-save writes the IPVS table to standard output in the form
// ipvsadm -R reads, as the ipvsadm 1.31 script of that name does.
package main

import (
	"os"

	"github.com/lvsgo/ipvsadm/compat"
)

func main() { os.Exit(compat.SaveMain(compat.SystemEnv())) }
