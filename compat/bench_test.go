package compat

import (
	"testing"
)

// The benchmarks of a restore line's parse, which ipvsadm -R,
// ipvsadm-restore and rules.Parse run once per line of a table that may
// have tens of thousands of lines:
//
//	go test ./compat -run '^$' -bench . -benchmem

// benchLines are restore lines as ipvsadm -S writes them and as people
// write them: services and servers of every forwarding method, weights,
// thresholds, persistence, firewall marks, IPv6.
var benchLines = []string{
	"-A -t 10.1.0.1:80 -s rr",
	"-a -t 10.1.0.1:80 -r 10.128.0.1:8080 -m -w 1",
	"-a -t 10.1.0.1:80 -r 10.128.0.2:80 -g -w 5",
	"-a -t 10.1.0.1:80 -r 10.128.0.3:80 -i -w 0",
	"-A -u 10.1.0.2:53 -s wlc -p 300",
	"-a -u 10.1.0.2:53 -r 10.128.1.1:53 -m -w 100 -x 1000 -y 500",
	"-A -f 17 -s sh -b sh-port",
	"-a -f 17 -r 10.128.2.1:0 -g -w 1",
	"-A -t [2001:db8::1]:443 -s wrr -p 60 -M 64",
	"-a -t [2001:db8::1]:443 -r [2001:db8:1::10]:443 -m -w 3",
	"-E -t 10.1.0.1:80 -s lc",
	"-e -t 10.1.0.1:80 -r 10.128.0.1:8080 -m -w 2",
	"-d -t 10.1.0.1:80 -r 10.128.0.2:80",
	"-D -u 10.1.0.2:53",
}

// benchCommonLines are the two line forms that make most of a large table.
var benchCommonLines = []string{
	"-A -t 10.1.0.1:80 -s rr",
	"-a -t 10.1.0.1:80 -r 10.128.0.1:8080 -m -w 1",
}

// BenchmarkSplitLine is the tokeniser alone.
func BenchmarkSplitLine(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		SplitLine(benchLines[i%len(benchLines)])
	}
}

func benchmarkParseRule(b *testing.B, lines []string) {
	names := FileNames(nil, nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		line := lines[i%len(lines)]
		if _, err := ParseRule(SplitLine(line), names); err != nil {
			b.Fatalf("%s: %v", line, err)
		}
	}
}

// BenchmarkParseRule is what rules.Parse does per line: SplitLine, then
// ParseRule.
func BenchmarkParseRule(b *testing.B) { benchmarkParseRule(b, benchLines) }

// BenchmarkParseRuleCommon is the same for the two commonest line forms.
func BenchmarkParseRuleCommon(b *testing.B) { benchmarkParseRule(b, benchCommonLines) }

// BenchmarkParseRuleTokens is ParseRule alone, on lines split before.
func BenchmarkParseRuleTokens(b *testing.B) {
	names := FileNames(nil, nil)
	tokens := make([][]string, len(benchLines))
	for i, line := range benchLines {
		tokens[i] = SplitLine(line)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseRule(tokens[i%len(tokens)], names); err != nil {
			b.Fatalf("%q: %v", tokens[i%len(tokens)], err)
		}
	}
}

// BenchmarkRestoreLine is what ipvsadm -R does per line (runner.restore):
// SplitLine, then the parser, kept on the stack.
func BenchmarkRestoreLine(b *testing.B) {
	names := FileNames(nil, nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		line := benchLines[i%len(benchLines)]
		p := parser{names: names}
		if ex := p.parse("ipvsadm", SplitLine(line)); ex != nil {
			b.Fatalf("%s: %s", line, ex.stderr)
		}
	}
}

// BenchmarkParseArgs is parseArgs alone, on command lines split before.
func BenchmarkParseArgs(b *testing.B) {
	names := FileNames(nil, nil)
	args := make([][]string, len(benchLines))
	for i, line := range benchLines {
		args[i] = append([]string{"ipvsadm"}, SplitLine(line)...)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ex := parseArgs(args[i%len(args)], names); ex != nil {
			b.Fatalf("%q: %s", args[i%len(args)], ex.stderr)
		}
	}
}
