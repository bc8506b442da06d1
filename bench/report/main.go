package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lvsgo/ipvsadm/bench/result"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-report:", err)
		os.Exit(1)
	}
}

func run() error {
	in := flag.String("in", "build/vm/bench/bench.json", "the record ipvs-bench wrote")
	md := flag.String("md", "BENCHMARKS.md", "markdown to write")
	svg := flag.String("svg", "bench/chart.svg", "chart to write")
	var h result.Host
	flag.StringVar(&h.CPUModel, "host-cpu", "", "host CPU model, for the record")
	flag.IntVar(&h.CPUs, "host-cpus", 0, "host CPUs")
	flag.StringVar(&h.Qemu, "qemu", "", "qemu version")
	flag.StringVar(&h.LoadBefore, "load-before", "", "host /proc/loadavg before the boot")
	flag.StringVar(&h.LoadAfter, "load-after", "", "host /proc/loadavg after the run")
	flag.StringVar(&h.LoadDuring, "load-during", "", "host load while the VM ran")
	flag.Float64Var(&h.TotalSeconds, "total-seconds", 0, "make bench end to end so far")
	flag.Parse()

	var host *result.Host
	if h != (result.Host{}) {
		host = &h
	}
	return report(os.Stdout, *in, *md, *svg, host)
}

// report prints the table of the record in and writes the markdown and the
// chart, unless the record says the run failed.
func report(stdout io.Writer, in, md, svg string, host *result.Host) error {
	r, err := result.Read(in)
	if err != nil {
		return err
	}
	if host != nil {
		r.Meta.Host = host
	}
	fmt.Fprintln(stdout)
	result.WriteTextHeader(stdout)
	for i := range r.Rows {
		result.WriteTextRow(stdout, &r.Rows[i])
	}
	if r.Error != "" {
		return errors.New("the run failed, nothing written: " + r.Error)
	}
	if len(r.Rows) == 0 {
		return errors.New("the record has no rows, nothing written")
	}

	chart, err := filepath.Rel(filepath.Dir(md), svg)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	writeMarkdown(&b, r, filepath.ToSlash(chart))
	if err := os.WriteFile(md, b.Bytes(), 0o644); err != nil {
		return err
	}
	b.Reset()
	if err := writeChart(&b, r); err != nil {
		return err
	}
	if err := os.WriteFile(svg, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nbench-report: wrote %s and %s\n", md, svg)
	return nil
}
