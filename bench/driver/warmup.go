package main

import (
	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// warmUpSet is small: the warm-up is about code, not data.
var warmUpSet = ruleset.Set{Services: 20, DestsPerService: 5}

// warmUp runs every program of the benchmark once on a small table,
// untimed, before anything is measured. Under qemu's TCG a program's first
// run also pays for translating its code (and the kernel paths it takes)
// into host code, which later runs find cached; without a warm-up that
// cost would fall on whichever side happens to run first.
func (b *bench) warmUp() error {
	f, err := b.files(warmUpSet)
	if err != nil {
		return err
	}
	b.logf("warm-up: each program once on a %s table", warmUpSet.Label())
	runs := [][]command{
		{{argv: []string{b.ref, "-R"}, stdin: f.rules}, {argv: []string{b.ref, "-Ln"}}, {argv: []string{b.ref, "-Sn"}},
			{argv: []string{b.ref, "-Ln", "--stats"}}, {argv: []string{b.ref, "-C"}},
			{argv: []string{b.ref, "-A", "-t", "10.0.0.1:80", "-s", "rr"}},
			{argv: []string{b.ref, "-a", "-t", "10.0.0.1:80", "-r", "10.200.0.1:8080", "-m"}}},
		{{argv: []string{b.ours, "-R"}, stdin: f.rules}, {argv: []string{b.ours, "-Ln"}}, {argv: []string{b.ours, "-Sn"}},
			{argv: []string{b.ours, "-Ln", "--stats"}}, {argv: []string{b.ours, "-C"}},
			{argv: []string{b.ours, "-A", "-t", "10.0.0.1:80", "-s", "rr"}},
			{argv: []string{b.ours, "-a", "-t", "10.0.0.1:80", "-r", "10.200.0.1:8080", "-m"}}},
		{{argv: []string{b.oursRestore, "--atomic"}, stdin: f.rules}},
		{{argv: []string{b.floor}, stdin: f.requests}},
		{{argv: []string{b.floor, "-acked"}, stdin: f.requests}},
	}
	for _, cmds := range runs {
		err := b.inNamespace(func() error {
			for _, c := range cmds {
				if _, err := b.untimed(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
