//go:build linux

package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// tracefs is where the VM's kernel has its tracing files.
const tracefs = "/sys/kernel/tracing"

// writeHandler is the kernel's handler of every IPVS write request.
const writeHandler = "ip_vs_genl_set_cmd"

// CountIPVSWrites counts the IPVS write requests the kernel handles, from
// any process, while fn runs, with the function tracer on its handler: the
// proof that a run which must not write wrote nothing. It needs root and
// a kernel with ftrace (the VM's).
//
// The tracer is set up once per boot, by whichever test comes first, and
// then only switched on and off: setting it up again made the kernel patch
// its code again, which locked a CPU up under qemu's emulation.
func CountIPVSWrites(t testing.TB, fn func()) int {
	t.Helper()
	set := func(file, value string) {
		if err := os.WriteFile(filepath.Join(tracefs, file), []byte(value), 0); err != nil {
			t.Fatalf("tracefs %s: %v", file, err)
		}
	}
	get := func(file string) string {
		b, err := os.ReadFile(filepath.Join(tracefs, file))
		if err != nil {
			t.Fatalf("tracefs %s: %v", file, err)
		}
		return string(bytes.TrimSpace(b))
	}
	if _, err := os.Stat(filepath.Join(tracefs, "trace")); err != nil {
		if err := syscall.Mount("nodev", tracefs, "tracefs", 0, ""); err != nil {
			t.Fatalf("mounting tracefs: %v", err)
		}
	}
	if get("current_tracer") != "function" || get("set_ftrace_filter") != writeHandler {
		set("tracing_on", "0")
		set("set_ftrace_filter", writeHandler)
		set("current_tracer", "function")
	}
	set("trace", "")
	set("tracing_on", "1")
	fn()
	set("tracing_on", "0")
	b, err := os.ReadFile(filepath.Join(tracefs, "trace"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("# tracer: function")) {
		t.Fatalf("no function trace:\n%s", b)
	}
	return bytes.Count(b, []byte(writeHandler+" <-"))
}
