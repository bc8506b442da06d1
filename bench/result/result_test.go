package result

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 1, 1, 1, 9}, 1},
	} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	v := []float64{3, 1, 2}
	Median(v)
	if v[0] != 3 || v[1] != 1 {
		t.Error("Median reordered its argument")
	}
}

func TestRatioNeedsBothSides(t *testing.T) {
	r := Row{Sides: []Side{{Name: SideReference, Median: 2}, {Name: SideOurs, Median: 1}, {Name: SideFloor}}}
	if v, ok := r.Ratio(SideOurs, SideReference); !ok || v != 0.5 {
		t.Errorf("ours/reference = %v, %v; want 0.5", v, ok)
	}
	if _, ok := r.Ratio(SideAtomic, SideReference); ok {
		t.Error("ratio of a missing side")
	}
	if _, ok := r.Ratio(SideOurs, SideFloor); ok {
		t.Error("ratio over a zero median")
	}
}

func TestTextRow(t *testing.T) {
	for _, c := range []struct {
		name string
		row  Row
		want []string // fields of the line
	}{{
		name: "a listing leaves the missing sides blank",
		row: Row{Name: "-Ln", Set: "1,000 × 4", Sides: []Side{
			{Name: SideReference, Unit: Seconds, Median: 0.5}, {Name: SideOurs, Unit: Seconds, Median: 0.25}}},
		want: []string{"-Ln", "1,000", "×", "4", "0.500", "s", "0.250", "s", "0.50"},
	}, {
		name: "a restore has both floors",
		row: Row{Name: "-R", Set: "1,000 × 4", Sides: []Side{
			{Name: SideReference, Unit: Seconds, Median: 2},
			{Name: SideOurs, Unit: Seconds, Median: 0.3},
			{Name: SideAtomic, Unit: Seconds, Median: 0.2},
			{Name: SideFloor, Unit: Seconds, Median: 0.25},
			{Name: SideFloorAcked, Unit: Seconds, Median: 0.4}}},
		// ours/reference 0.15, --atomic 0.10; ours/floor 1.20, --atomic
		// 0.80; floor acked 0.400 s, ours/acked floor 0.75.
		want: []string{"-R", "1,000", "×", "4", "2.000", "s", "0.300", "s", "0.15", "0.200", "s", "0.10",
			"0.250", "s", "1.20", "0.80", "0.400", "s", "0.75"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteTextRow(&b, &c.row)
			if diff := cmp.Diff(c.want, strings.Fields(b.String())); diff != "" {
				t.Errorf("row %q: fields (-want +got):\n%s", b.String(), diff)
			}
		})
	}
}

func TestTextHeaderNamesEveryColumn(t *testing.T) {
	var b bytes.Buffer
	WriteTextHeader(&b)
	want := []string{"ROW", "REFERENCE", "OURS", "RATIO", "--ATOMIC", "RATIO", "FLOOR", "OURS/FL", "ATOM/FL", "ACKED", "FLOOR", "OURS/AFL"}
	if diff := cmp.Diff(want, strings.Fields(b.String())); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

func TestFormatValue(t *testing.T) {
	if got := FormatValue(12345.4, KiB); got != "12,345 KiB" {
		t.Errorf("FormatValue KiB = %q", got)
	}
}
