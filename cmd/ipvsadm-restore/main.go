// Command ipvsadm-restore replaces the IPVS table with the rules on standard
// input, as the ipvsadm 1.31 script of that name does: lines beginning with
// '#' are dropped, the table is cleared, the rest is loaded with ipvsadm -R.
package main

import (
	"os"

	"github.com/lvsgo/ipvsadm/compat"
)

func main() { os.Exit(compat.RestoreMain(compat.SystemEnv())) }
