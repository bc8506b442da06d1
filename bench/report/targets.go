package main

import (
	"fmt"

	"github.com/lvsgo/ipvsadm/bench/result"
)

// The targets of issue 5, as limits on ratios of medians taken in one
// boot.

// bigSet is a set whose targets are the strict ones: 10,000 × 1 and
// 50,000 × 1.
func bigSet(r *result.Row) bool {
	return r.DestsPerService == 1 && (r.Services == 10000 || r.Services == 50000)
}

// restoreLimit: ours/reference ≤ 0.10 at 10,000 × 1 and 50,000 × 1, ≤ 0.2
// at the other sizes.
func restoreLimit(r *result.Row) float64 {
	if bigSet(r) {
		return 0.10
	}
	return 0.2
}

// listLimit: -Ln and -Sn ≤ 0.5 at 10,000 × 1 and 50,000 × 1, never above
// 1.0; other listings have no target.
func listLimit(r *result.Row) (float64, bool) {
	if r.Name != "-Ln" && r.Name != "-Sn" {
		return 0, false
	}
	if bigSet(r) {
		return 0.5, true
	}
	return 1.0, true
}

const (
	floorLimit   = 1.5 // restore within 1.5× of the kernel floor
	oneShotLimit = 1.2 // one-shot latency
	memoryLimit  = 2.0 // peak memory of -Sn at 50,000 services
)

// A verdict is a ratio checked against its limit.
type verdict struct {
	ratio, limit float64
	ok           bool // the ratio exists
}

func check(r *result.Row, a, b string, limit float64) verdict {
	v, ok := r.Ratio(a, b)
	return verdict{ratio: v, limit: limit, ok: ok}
}

func (v verdict) met() bool { return v.ok && v.ratio <= v.limit }

func (v verdict) ratioText() string {
	if !v.ok {
		return "—"
	}
	return fmt.Sprintf("%.2f", v.ratio)
}

func (v verdict) limitText() string { return fmt.Sprintf("≤ %.2f", v.limit) }

func (v verdict) status() string {
	switch {
	case !v.ok:
		return "—"
	case v.met():
		return "met"
	default:
		return "**not met**"
	}
}

// tally counts targets.
type tally struct{ met, all int }

func (t *tally) add(v verdict) {
	if v.ok {
		t.all++
		if v.met() {
			t.met++
		}
	}
}
