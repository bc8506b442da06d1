package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsgo/ipvsadm/bench/result"
)

// testdata/run.json is written by hand: round numbers whose ratios are
// easy to check against the targets, not the output of a real run.

func fixture(t *testing.T) *result.Run {
	t.Helper()
	r, err := result.Read("testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMarkdownRowsAndTargets(t *testing.T) {
	var b bytes.Buffer
	writeMarkdown(&b, fixture(t), "bench/chart.svg")
	md := b.String()
	for _, want := range []string{
		// 0.3/1.5 = 0.20 meets ≤ 0.20 at 1,000 × 4; --atomic 0.2/1.5 = 0.13.
		"| 1,000 × 4 | 5,000 | 1.500 s | 0.300 s | 0.20 | 0.200 s | 0.13 | ≤ 0.20 | met | met |",
		// 3.1/31 = 0.10 meets ≤ 0.10 at 50,000 × 1; 2.5/31 = 0.08.
		"| 50,000 × 1 | 100,000 | 31.000 s | 3.100 s | 0.10 | 2.500 s | 0.08 | ≤ 0.10 | met | met |",
		"| `-Ln` | 1,000 × 4 | 0.500 s | 0.200 s | 0.40 | ≤ 1.00 | met |",
		// 15/25 = 0.60 misses ≤ 0.50 at 50,000 × 1.
		"| `-Ln` | 50,000 × 1 | 25.000 s | 15.000 s | 0.60 | ≤ 0.50 | **not met** |",
		// --stats has no target.
		"| `-Ln --stats` | 50,000 × 1 | 26.000 s | 30.000 s | 1.15 | — | — |",
		"| 50,000 × 1 | 0.200 s | 0.100 s | 0.50 |",
		// 20/17.5 = 1.14 meets ≤ 1.20.
		"| whole loop | 17.500 s | 20.000 s | 1.14 | ≤ 1.20 | met |",
		"| per process | 35.0 ms | 40.0 ms | | | |",
		"| 50,000 × 1 | 10,000 KiB | 15,000 KiB | 1.50 | ≤ 2.00 | met |",
		// ours/floor 0.3/0.15 = 2.00, --atomic 0.2/0.15 = 1.33, reference
		// 10.00; the acked floor 0.25, ours/acked floor 0.3/0.25 = 1.20,
		// which would meet ≤ 1.50: the target must stay on the floor.
		"| 1,000 × 4 | 0.150 s | 0.250 s | 0.300 s | 2.00 | 1.20 | 0.200 s | 1.33 | 10.00 | ≤ 1.50 | **not met** | met |",
		// ours/acked floor 3.1/4 = 0.78.
		"| 50,000 × 1 | 2.000 s | 4.000 s | 3.100 s | 1.55 | 0.78 | 2.500 s | 1.25 | 15.50 | ≤ 1.50 | **not met** | met |",
		"| set | floor | acked floor | ours `-R` | ours/floor | ours/acked floor | ours `--atomic` | `--atomic`/floor | reference/floor | target | `-R` | `--atomic` |",
		// 4 restore + 2 listing + 1 one-shot + 1 memory + 4 floor: the
		// acked floor is no target.
		"**Targets met: 9 of 12.**",
		"![Time against table size, reference and ours, restore and -Ln](bench/chart.svg)",
		"| guest kernel | `6.1.0-test-amd64` |",
		"at least 95% idle over\n  0.5 s",
		"| -R 1,000 × 4 | reference | `/opt/ref/sbin/ipvsadm -R < rules` | 1.400, 1.500, 1.600 s |",
		"| -R 1,000 × 4 | ours | `/usr/local/sbin/ipvsadm -R < rules` | 0.300, 0.250, 0.350* s |",
		"| -R 50,000 × 1 | floor, acked | `/usr/local/sbin/ipvs-floor -acked < requests.bin` | 4.000 s |",
		"**acked floor** (`ipvs-floor -acked`) speaks ipvsadm 1.31's",
		"This run: 4 runs waited for a quiet host, 3 were measured\n  again, 1 were kept with the host busy",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "Quick run") {
		t.Error("a full run is called a quick run")
	}
}

func TestChartIsWellFormedWithEverySeries(t *testing.T) {
	var b bytes.Buffer
	if err := writeChart(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	d := xml.NewDecoder(strings.NewReader(svg))
	paths := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "path" {
			paths++
		}
	}
	// Restore: reference, ours, --atomic, floor, acked floor; -Ln:
	// reference, ours.
	if paths != 7 {
		t.Errorf("%d lines drawn, want 7", paths)
	}
	for _, want := range []string{"Restore into an empty table (-R)", "Listing (-Ln)", "100,000", "50,000 × 1",
		"table size: services + destinations (log scale)", "time, median (log scale)", "kernel floor", "kernel floor, acked (as 1.31), 50,000 × 1: 4.000 s", "reference (ipvsadm 1.31)"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

func TestReportRefusesAFailedRun(t *testing.T) {
	dir := t.TempDir()
	r := fixture(t)
	r.Error = "restore: 1,000 × 4: table after ours restore differs"
	in := filepath.Join(dir, "bench.json")
	b, _ := json.Marshal(r)
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	md, svg := filepath.Join(dir, "B.md"), filepath.Join(dir, "c.svg")
	if err := report(io.Discard, in, md, svg, nil); err == nil {
		t.Fatal("no error for a failed run")
	}
	for _, f := range []string{md, svg} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s written for a failed run", f)
		}
	}
}

func TestReportWritesLinkRelativeToTheMarkdown(t *testing.T) {
	dir := t.TempDir()
	md, svg := filepath.Join(dir, "BENCHMARKS.md"), filepath.Join(dir, "bench", "chart.svg")
	if err := os.Mkdir(filepath.Dir(svg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := report(io.Discard, "testdata/run.json", md, svg, &result.Host{CPUs: 2, CPUModel: "AMD EPYC"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "](bench/chart.svg)") || !strings.Contains(string(b), "| host CPU | 2 × AMD EPYC |") {
		t.Errorf("markdown:\n%s", b)
	}
}
