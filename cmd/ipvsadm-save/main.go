// Command ipvsadm-save prints the IPVS table as the rules that restore it,
// as the ipvsadm 1.31 script of that name does (-n for numeric addresses and
// ports); with --file FILE it replaces FILE atomically (see package
// persist).
package main

import (
	"os"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/persist"
)

func main() {
	os.Exit(persist.SaveMain(persist.Env{Env: compat.SystemEnv()}))
}
