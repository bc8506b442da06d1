package result

import (
	"bytes"
	"strings"
	"testing"
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

func TestTextRowLeavesMissingSidesBlank(t *testing.T) {
	r := Row{Name: "-Ln", Set: "1,000 × 4", Sides: []Side{
		{Name: SideReference, Unit: Seconds, Median: 0.5}, {Name: SideOurs, Unit: Seconds, Median: 0.25}}}
	var b bytes.Buffer
	WriteTextRow(&b, &r)
	got := strings.Fields(b.String())
	want := []string{"-Ln", "1,000", "×", "4", "0.500", "s", "0.250", "s", "0.50"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("row %q, want fields %q", b.String(), want)
	}
	if FormatValue(12345.4, KiB) != "12,345 KiB" {
		t.Errorf("FormatValue KiB = %q", FormatValue(12345.4, KiB))
	}
}
