package result

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// The plain-text table the driver prints as it goes and the report prints
// at the end: one line per row, medians, the ratios the targets are set
// on, and ours against the floor of ipvsadm 1.31's acked protocol (no
// target: what ours saves the kernel by asking for fewer acks).

const textFormat = "%-30s %12s %12s %6s %12s %6s %12s %8s %8s %12s %8s\n"

// WriteTextHeader writes the column names.
func WriteTextHeader(w io.Writer) {
	fmt.Fprintf(w, textFormat, "ROW", "REFERENCE", "OURS", "RATIO", "--ATOMIC", "RATIO", "FLOOR", "OURS/FL", "ATOM/FL", "ACKED FLOOR", "OURS/AFL")
}

// WriteTextRow writes one row: a side a row lacks is left blank.
func WriteTextRow(w io.Writer, r *Row) {
	ratio := func(a, b string) string {
		if v, ok := r.Ratio(a, b); ok {
			return fmt.Sprintf("%.2f", v)
		}
		return ""
	}
	fmt.Fprintf(w, textFormat, r.Title(),
		r.median(SideReference), r.median(SideOurs), ratio(SideOurs, SideReference),
		r.median(SideAtomic), ratio(SideAtomic, SideReference),
		r.median(SideFloor), ratio(SideOurs, SideFloor), ratio(SideAtomic, SideFloor),
		r.median(SideFloorAcked), ratio(SideOurs, SideFloorAcked))
}

// Title names the row in tables: "-R 1,000 × 4".
func (r *Row) Title() string {
	return strings.TrimSpace(r.Name + " " + r.Set)
}

func (r *Row) median(side string) string {
	s := r.Side(side)
	if s == nil {
		return ""
	}
	return FormatValue(s.Median, s.Unit)
}

// FormatValue writes a value in its unit: seconds with three decimals,
// KiB as a whole number.
func FormatValue(v float64, unit string) string {
	if unit == KiB {
		return ruleset.Thousands(int(math.Round(v))) + " KiB"
	}
	return fmt.Sprintf("%.3f s", v)
}
