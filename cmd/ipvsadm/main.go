// Command ipvsadm administers the kernel's IP Virtual Server table, as
// ipvsadm 1.31 does, flag for flag and byte for byte.
package main

import (
	"os"

	"github.com/lvsgo/ipvsadm/compat"
)

func main() {
	os.Exit(compat.Main(compat.SystemEnv()))
}
