//go:build linux

package compat_test

import (
	"bytes"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/ipvs/ipvstest"
	"github.com/lvsgo/ipvsadm/persist"
)

// goldenConnections is /proc/net/ip_vs_conn of a kernel without connections.
const goldenConnections = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"

// goldenMains are the entry points of the three commands, by argv[0]: the
// commands' own, so that the goldens also hold ipvsadm-save and
// ipvsadm-restore to 1.31 when they are given none of their new options.
var goldenMains = map[string]func(compat.Env) int{
	"ipvsadm":         compat.Main,
	"ipvsadm-save":    func(env compat.Env) int { return persist.SaveMain(persist.Env{Env: env}) },
	"ipvsadm-restore": func(env compat.Env) int { return persist.RestoreMain(persist.Env{Env: env}) },
}

// runCompat runs a step in-process in env; a panic is an error.
func runCompat(env compat.Env, st testenv.Step) (out stepOutcome, err error) {
	var stdout, stderr bytes.Buffer
	env.Args = st.Args
	env.Stdin = bytes.NewReader(st.Stdin)
	env.Stdout, env.Stderr = &stdout, &stderr
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %v\n%s", st.Args[0], r, debug.Stack())
		}
	}()
	out.status = goldenMains[st.Args[0]](env)
	out.stdout, out.stderr = stdout.String(), stderr.String()
	return out, nil
}

// TestGoldenInMemory replays every scenario through Main, SaveMain and
// RestoreMain against a fresh in-memory kernel, and holds every step to what
// the reference printed on the real kernel.
func TestGoldenInMemory(t *testing.T) {
	all := loadGoldenScenarios(t)
	names := testenv.GoldenNames(t)
	for _, gs := range all {
		t.Run(gs.Name, func(t *testing.T) {
			if gs.KernelOnly != "" {
				t.Skipf("kernel-only: %s", gs.KernelOnly)
			}
			skipIntendedDifference(t, gs)
			k := ipvstest.New()
			env := compat.Env{
				Dial:  func() (*ipvs.Client, error) { return ipvs.NewFromConn(k.Dial()) },
				Names: names,
				OpenConnections: func() (io.ReadCloser, error) {
					return io.NopCloser(strings.NewReader(goldenConnections)), nil
				},
			}
			replayGolden(t, gs, func(st testenv.Step) (stepOutcome, error) { return runCompat(env, st) })
		})
	}
}

// skipIntendedDifference skips a scenario that shows one of the README's
// differences from ipvsadm 1.31: its golden holds 1.31's behaviour (a crash,
// a negative mark), ours is held by unit tests.
func skipIntendedDifference(t *testing.T, gs goldenScenario) {
	t.Helper()
	if gs.Differs != "" {
		t.Skipf("skipped: an intended difference from ipvsadm 1.31 (README): %s", gs.Differs)
	}
}
