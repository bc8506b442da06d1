package result

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// Blocks of rows, in the order the driver runs them.
const (
	BlockRestore = "restore"
	BlockList    = "list"
	BlockClear   = "clear"
	BlockOneShot = "oneshot"
	BlockMemory  = "memory"
)

// Side names. Ratios are always taken against SideReference, and the
// restore rows also against SideFloor.
const (
	SideReference = "reference"
	SideOurs      = "ours"
	SideAtomic    = "ours --atomic"
	// SideFloor is the kernel floor of our protocol: requests that ask
	// for no ack, each batch ended by a no-op that does (bench/floor).
	SideFloor = "floor"
	// SideFloorAcked is the kernel floor of ipvsadm 1.31's protocol:
	// every request acked, every ack read (ipvs-floor -acked).
	SideFloorAcked = "floor, acked"
)

// Units of a side's values.
const (
	Seconds = "s"
	KiB     = "KiB"
)

// Run is the record of one bench run.
type Run struct {
	Meta Meta  `json:"meta"`
	Rows []Row `json:"rows"`
	// Error is set when the run stopped early: a table that differs from
	// the reference's, a command that failed. A run with an Error must not
	// be published.
	Error string `json:"error,omitempty"`
}

// Meta describes where and how the run was made.
type Meta struct {
	Date        string `json:"date"`         // RFC 3339, guest clock
	Kernel      string `json:"kernel"`       // uname -r
	KernelBuild string `json:"kernel_build"` // /proc/version
	CPUModel    string `json:"cpu_model"`    // /proc/cpuinfo "model name"
	CPUs        int    `json:"cpus"`         // online CPUs in the guest
	MemoryKiB   int64  `json:"memory_kib"`   // MemTotal
	Accel       string `json:"accel"`        // qemu accelerator
	Quick       bool   `json:"quick"`        // one run per side, no 50,000 rows
	Runs        int    `json:"runs"`         // runs per side of most rows
	RunsSlow    int    `json:"runs_slow"`    // runs per side of the slowest rows
	OneShot     int    `json:"oneshot"`      // processes in the one-shot loop
	Reference   string `json:"reference"`    // path of the reference ipvsadm
	Ours        string `json:"ours"`         // path of our ipvsadm
	// IdleFraction and IdleWindowSeconds are the idle-CPU wait before
	// each run: that share of idle time over that window.
	IdleFraction      float64 `json:"idle_fraction"`
	IdleWindowSeconds float64 `json:"idle_window_seconds"`
	// IdleTimeouts counts runs that started although the CPU had not gone
	// idle within the wait's limit (see the driver); 0 in a clean run.
	IdleTimeouts int `json:"idle_timeouts"`
	// The host-contention guard (see bench/driver/host.go): the probe's
	// quickest time; runs whose start waited for a quiet host; runs
	// measured again because the host was busy as they ended; runs kept
	// although it was, after the last attempt or once the contention
	// budget was spent; seconds spent on waits and repeats.
	ProbeQuickestMillis float64 `json:"probe_quickest_ms"`
	HostWaits           int     `json:"host_waits"`
	Repeats             int     `json:"repeats"`
	BusyRuns            int     `json:"busy_runs"`
	ContentionSeconds   float64 `json:"contention_seconds"`
	ContentionBudget    float64 `json:"contention_budget_seconds"`
	// DurationSeconds is the guest's wall time for the whole run.
	DurationSeconds float64 `json:"duration_seconds"`
	// Host is filled in by vm/bench.sh on the host, not by the driver.
	Host *Host `json:"host,omitempty"`
}

// Host describes the machine that ran qemu.
type Host struct {
	CPUModel     string  `json:"cpu_model"`
	CPUs         int     `json:"cpus"`
	Qemu         string  `json:"qemu"`          // qemu-system-x86_64 --version, first line
	LoadBefore   string  `json:"load_before"`   // /proc/loadavg before the boot
	LoadAfter    string  `json:"load_after"`    // and after
	LoadDuring   string  `json:"load_during"`   // sampled while the VM ran
	TotalSeconds float64 `json:"total_seconds"` // make bench, build to report
}

// Row is one operation on one rule set.
type Row struct {
	Block string `json:"block"`
	// Name is the operation as a user would type it: "-R", "-Ln", "-C".
	Name string `json:"name"`
	// Set is the rule set's label ("10,000 × 1"); empty when the row has
	// no set of its own sizes (one-shot).
	Set             string `json:"set,omitempty"`
	Services        int    `json:"services"`
	DestsPerService int    `json:"dests_per_service"`
	Sides           []Side `json:"sides"`
}

// Side is one program's runs of a row.
type Side struct {
	Name    string    `json:"name"`
	Command string    `json:"command"` // as run, for the record
	Unit    string    `json:"unit"`
	Values  []float64 `json:"values"` // every run, in the order run
	Median  float64   `json:"median"`
	// Busy holds the indices in Values of runs kept although the host was
	// busy as they ended (bench/driver/host.go).
	Busy []int `json:"busy,omitempty"`
}

// Side returns the side called name, or nil.
func (r *Row) Side(name string) *Side {
	for i := range r.Sides {
		if r.Sides[i].Name == name {
			return &r.Sides[i]
		}
	}
	return nil
}

// Ratio is the median of side a over that of side b; false when either
// side is missing or b's median is not positive.
func (r *Row) Ratio(a, b string) (float64, bool) {
	sa, sb := r.Side(a), r.Side(b)
	if sa == nil || sb == nil || sb.Median <= 0 {
		return 0, false
	}
	return sa.Median / sb.Median, true
}

// Rules is the number of lines of the row's restore input: every service
// and every destination is one write to the kernel.
func (r *Row) Rules() int { return r.Services * (1 + r.DestsPerService) }

// Median of values; 0 for none. For an even count it is the mean of the
// two middle values.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Read reads a run from a JSON file.
func Read(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Write writes run to path as indented JSON, through a temporary file so a
// reader never sees half of it.
func Write(path string, run *Run) error {
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
