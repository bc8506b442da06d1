// Command ipvsadm-restore loads IPVS rules. By default it is the ipvsadm
// 1.31 script of that name: lines of standard input beginning with '#' are
// dropped, the table is cleared, the rest is loaded with ipvsadm -R, line by
// line. With --atomic the same is one transaction, with --sync only the
// difference is applied (see package persist).
package main

import (
	"os"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/persist"
)

func main() {
	os.Exit(persist.RestoreMain(persist.Env{Env: compat.SystemEnv()}))
}
