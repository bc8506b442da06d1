package gctune

import (
	"os"
	"runtime/debug"
)

// percent is the heap growth between collections. A listing or a restore
// allocates steadily and keeps most of what it allocates (the table) to the
// end, so frequent collections find little to free: -Ln of 10,000 services
// took 2.2-2.4 s at Go's default of 100 and 1.8-1.9 s at 400, under qemu's
// emulation in the VM. The peak memory this costs is measured by make bench.
const percent = 400

// Commands sets the collector for a command, unless GOGC says otherwise.
func Commands() {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(percent)
	}
}
