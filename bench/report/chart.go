package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/lvsgo/ipvsadm/bench/result"
	"github.com/lvsgo/ipvsadm/bench/ruleset"
)

// The chart: two panels, restore and -Ln, each time against table size
// (services + destinations, the lines of the restore input) on log-log
// scales, one line per side. Hand-written SVG: no dependency, and the file
// diffs readably.

const (
	chartWidth  = 960
	chartHeight = 500
	panelWidth  = 480
	plotLeft    = 80 // within a panel
	plotWidth   = 360
	plotTop     = 85
	plotHeight  = 270
)

// A series is one side's medians across the sets of a block.
type series struct {
	label, color, dash string
	points             []point
}

type point struct {
	x, y float64 // rules, seconds
	set  string
}

// style of each side on the chart.
var sideStyle = map[string]struct{ label, color, dash string }{
	result.SideReference: {"reference (ipvsadm 1.31)", "#c0392b", ""},
	result.SideOurs:      {"ours", "#1f66b4", ""},
	result.SideAtomic:    {"ours --atomic", "#2ca02c", "6 3"},
	result.SideFloor:     {"kernel floor", "#7f7f7f", "2 3"},
	// Dotted like the floor, a floor too; the reference's color, whose
	// protocol it is.
	result.SideFloorAcked: {"kernel floor, acked (as 1.31)", "#e6a09a", "2 3"},
}

// seriesOf collects, for each of sides, the medians of the rows of block
// named name, ordered by table size.
func seriesOf(run *result.Run, block, name string, sides ...string) []series {
	var out []series
	for _, side := range sides {
		st := sideStyle[side]
		s := series{label: st.label, color: st.color, dash: st.dash}
		for i := range run.Rows {
			r := &run.Rows[i]
			if r.Block != block || r.Name != name {
				continue
			}
			if sd := r.Side(side); sd != nil && sd.Median > 0 {
				s.points = append(s.points, point{x: float64(r.Rules()), y: sd.Median, set: r.Set})
			}
		}
		slices.SortFunc(s.points, func(a, b point) int { return int(a.x - b.x) })
		if len(s.points) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// writeChart writes the SVG chart of run.
func writeChart(w io.Writer, run *result.Run) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
<title>ipvsadm benchmark: time against table size, reference ipvsadm 1.31 and ours</title>
<rect width="100%%" height="100%%" fill="white"/>
`, chartWidth, chartHeight, chartWidth, chartHeight)
	subtitle := fmt.Sprintf("Linux %s, qemu %s, %d CPUs; medians of whole-process wall time", run.Meta.Kernel, run.Meta.Accel, run.Meta.CPUs)
	fmt.Fprintf(&b, `<text x="%d" y="22" text-anchor="middle" font-size="15" font-weight="bold">ipvsadm: reference 1.31 against ours</text>
<text x="%d" y="40" text-anchor="middle" fill="#555">%s</text>
`, chartWidth/2, chartWidth/2, esc(subtitle))
	panel(&b, 0, "Restore into an empty table (-R)",
		seriesOf(run, result.BlockRestore, "-R", result.SideReference, result.SideOurs, result.SideAtomic, result.SideFloor, result.SideFloorAcked))
	panel(&b, panelWidth, "Listing (-Ln)",
		seriesOf(run, result.BlockList, "-Ln", result.SideReference, result.SideOurs))
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// panel draws one plot at horizontal offset x0.
func panel(b *bytes.Buffer, x0 int, title string, ss []series) {
	left, top := float64(x0+plotLeft), float64(plotTop)
	right, bottom := left+plotWidth, top+plotHeight
	fmt.Fprintf(b, `<g>
<text x="%g" y="%g" text-anchor="middle" font-size="13" font-weight="bold">%s</text>
`, (left+right)/2, top-12, esc(title))
	if len(ss) == 0 {
		fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle" fill="#555">not measured</text>
</g>
`, (left+right)/2, (top+bottom)/2)
		return
	}
	xs, ys := bounds(ss)
	// x: pad by a fifth of a decade so the end points are not on the frame.
	xa := logAxis{lo: math.Log10(xs[0]) - 0.2, hi: math.Log10(xs[1]) + 0.2, p0: left, p1: right}
	ya := logAxis{lo: math.Floor(math.Log10(ys[0])), hi: math.Ceil(math.Log10(ys[1])), p0: bottom, p1: top}
	if ya.hi == ya.lo {
		ya.hi++
	}

	// Grid and y ticks: 1, 2 and 5 of every decade.
	for d := ya.lo; d <= ya.hi; d++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, d)
			if math.Log10(v) > ya.hi+1e-9 {
				continue
			}
			y := ya.pos(v)
			stroke := "#eee"
			if m == 1 {
				stroke = "#ccc"
			}
			fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="%s"/>
`, left, y, right, y, stroke)
			if m == 1 || ya.hi-ya.lo <= 3 {
				fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end" dominant-baseline="middle" font-size="11">%s s</text>
`, left-6, y, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
	}
	// x ticks: one per table size, with its set.
	var sizes []point
	for _, s := range ss {
		for _, p := range s.points {
			if !slices.ContainsFunc(sizes, func(q point) bool { return q.x == p.x }) {
				sizes = append(sizes, p)
			}
		}
	}
	for _, p := range sizes {
		x := xa.pos(p.x)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#eee"/>
<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#333"/>
<text x="%.1f" y="%g" text-anchor="middle" font-size="11">%s</text>
<text x="%.1f" y="%g" text-anchor="middle" font-size="10" fill="#555">%s</text>
`, x, top, x, bottom, x, bottom, x, bottom+5,
			x, bottom+18, ruleset.Thousands(int(p.x)), x, bottom+31, esc(p.set))
	}
	// Frame and axis titles.
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%d" height="%d" fill="none" stroke="#333"/>
<text x="%g" y="%g" text-anchor="middle" font-size="11">table size: services + destinations (log scale)</text>
<text transform="translate(%g %g) rotate(-90)" text-anchor="middle" font-size="11">time, median (log scale)</text>
`, left, top, plotWidth, plotHeight, (left+right)/2, bottom+50, left-58, (top+bottom)/2)

	// Lines and markers.
	for _, s := range ss {
		var path bytes.Buffer
		for i, p := range s.points {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, xa.pos(p.x), ya.pos(p.y))
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		fmt.Fprintf(b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>
`, bytes.TrimSpace(path.Bytes()), s.color, dash)
		for _, p := range s.points {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %s: %.3f s</title></circle>
`, xa.pos(p.x), ya.pos(p.y), s.color, esc(s.label), esc(p.set), p.y)
		}
	}
	// Legend, under the axis title.
	for i, s := range ss {
		lx := left + float64(i%2)*190
		ly := bottom + 72 + float64(i/2)*18
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"%s/>
<circle cx="%g" cy="%g" r="3.5" fill="%s"/>
<text x="%g" y="%g" dominant-baseline="middle" font-size="11">%s</text>
`, lx, ly, lx+24, ly, s.color, dash, lx+12, ly, s.color, lx+30, ly, esc(s.label))
	}
	b.WriteString("</g>\n")
}

// bounds returns the ranges [min, max] of x and y over every point.
func bounds(ss []series) (xs, ys [2]float64) {
	xs = [2]float64{math.Inf(1), math.Inf(-1)}
	ys = xs
	for _, s := range ss {
		for _, p := range s.points {
			xs[0], xs[1] = min(xs[0], p.x), max(xs[1], p.x)
			ys[0], ys[1] = min(ys[0], p.y), max(ys[1], p.y)
		}
	}
	return xs, ys
}

// A logAxis maps values to pixels on a log10 scale: lo and hi are the
// logarithms at p0 and p1.
type logAxis struct{ lo, hi, p0, p1 float64 }

func (a logAxis) pos(v float64) float64 {
	return a.p0 + (math.Log10(v)-a.lo)/(a.hi-a.lo)*(a.p1-a.p0)
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
