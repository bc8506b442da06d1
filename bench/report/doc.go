// Command bench-report turns the record of a `make bench` run (the JSON
// ipvs-bench wrote in the VM) into BENCHMARKS.md and an SVG chart, and
// prints the run's table. It runs on the host; vm/bench.sh calls it.
//
//	go run ./bench/report -in build/vm/bench/bench.json -md BENCHMARKS.md -svg bench/chart.svg
//
// The markdown says how the numbers were made, on what machine, and for
// every row the medians, the ratio ours/reference and whether the issue's
// target for it is met; it ends with every run's value. The chart draws
// time against table size, reference and ours, for restore and -Ln, on
// log scales. A record with an error (the run stopped on a table that
// differs from the reference's) is refused: it must not be published.
package main
