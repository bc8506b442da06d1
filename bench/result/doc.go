// Package result is the record of one `make bench` run: what the driver
// measured in the VM (ipvs-bench writes it as JSON) and what the report on
// the host reads to write BENCHMARKS.md and the chart.
//
// A Row is one measured operation on one rule set; each Side of it is one
// program doing that operation (the reference ipvsadm, ours, ours with
// --atomic, the kernel floor of our protocol and of ipvsadm 1.31's) with
// every run's value kept, so the report shows the spread as well as the
// median it compares.
package result
