package rules_test

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lvsgo/ipvsadm/internal/testenv"
	"github.com/lvsgo/ipvsadm/ipvs"
	"github.com/lvsgo/ipvsadm/rules"
)

// restoreSeeds are rules files from the golden scenarios: the input of
// every restore step, the rule-writing ipvsadm steps of each scenario as
// one file (which stops at its first refused line), and every table the
// reference saved; then handSeeds.
func restoreSeeds(t testing.TB) []string {
	var seeds []string
	for _, sc := range testenv.Scenarios(t) {
		var script strings.Builder
		for _, st := range sc.Steps {
			if len(st.Stdin) > 0 {
				seeds = append(seeds, string(st.Stdin))
			}
			if st.Args[0] == "ipvsadm" && len(st.Args) > 1 && writesRules(st.Args[1]) {
				script.WriteString(strings.Join(st.Args[1:], " ") + "\n")
			}
		}
		seeds = append(seeds, script.String())
	}
	for _, s := range savedTables(t) {
		seeds = append(seeds, s.text)
	}
	return append(seeds, handSeeds...)
}

// writesRules tells whether an argument is a cluster of short options that
// begins with a command that writes rules.
func writesRules(arg string) bool {
	return len(arg) > 1 && arg[0] == '-' && strings.IndexByte("AEDaedC", arg[1]) >= 0
}

// handSeeds are rules files at the edges of Parse: each of the first is
// refused for another reason; the last two parse, but -S cannot say them
// (-b without a flag it has a name for; thresholds the kernel will refuse).
var handSeeds = []string{
	"-A -t 10.0.0.1:80\n\n-A -t 10.0.0.2:0 -s rr\n",      // a check of ipvsadm
	"-A -t 10.0.0.1:80 -s\n",                             // a popt error
	"-A -t 10.0.0.1:80\n  # no\n",                        // an indented comment
	"-A -t 10.0.0.1:80 -s rr # web\n",                    // a trailing comment
	"-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80 -s rr\n",       // a service twice
	"-A -t 10.0.0.1:80\n-a -t 10.0.0.2:80 -r 10.0.1.1\n", // a server of no service
	"-A -t 10.0.0.1:80\n-e -t 10.0.0.1:80 -r 10.0.1.1\n", // editing a missing server
	"-D -f 1\n",                  // deleting a missing service
	"-A -t 10.0.0.1:80\n-L -n\n", // a listing
	"--set 900 120 300\n",        // another command
	"-A -t 10.0.0.1:80\n" + strings.Repeat("x", 64<<10), // a line too long
	"-A -t 10.0.0.1:80 -s sh -b flag-3\n-C\n-A -f 1 -6 -s mh -b mh-port,flag-3\n",
	"-A -t 10.0.0.1:80\r\n-a -t 10.0.0.1:80 -r 10.0.1.1 -x 10 -y 20\r\n",
}

// FuzzParse holds Parse to its contract for any input: a rule set or a
// *rules.Error naming the line (its text, ipvsadm's message and status),
// never a panic, and the same parsed ahead on several goroutines in
// chunks of a line or two; and what parses is stable: formatted as -S -n
// writes it and parsed again, it is the same set as far as -S can say it
// (savedForm of both), and formatting that gives the same bytes.
func FuzzParse(f *testing.F) {
	for _, s := range restoreSeeds(f) {
		f.Add([]byte(s))
	}
	names := testenv.GoldenNames(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := rules.Parse(bytes.NewReader(data), names)
		ahead, aheadErr := rules.ParseAhead(string(data), names, 3, 16)
		if diff := gocmp.Diff(errorWords(err), errorWords(aheadErr)); diff != "" {
			t.Fatalf("Parse and ParseAhead err (-Parse +ParseAhead):\n%s", diff)
		}
		if diff := gocmp.Diff(set, ahead, equateAddr); diff != "" {
			t.Fatalf("Parse and ParseAhead (-Parse +ParseAhead):\n%s", diff)
		}
		if err != nil {
			checkParseError(t, data, err)
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, s := range set.Services {
			if s.Line < 1 || s.Line > lines {
				t.Errorf("service %v: line %d of %d", s.Service, s.Line, lines)
			}
			if !restorableNames(s.Service) {
				return
			}
		}
		var text bytes.Buffer
		if err := rules.Format(&text, set, true, nil); err != nil {
			t.Fatal(err)
		}
		want, readable := savedForm(set)
		again, err := rules.Parse(bytes.NewReader(text.Bytes()), nil)
		switch {
		case err != nil && readable:
			t.Fatalf("Format wrote what Parse refuses: %v\n%s", err, text.String())
		case err != nil:
			return // -b without its argument, as 1.31's -S writes it
		}
		got, _ := savedForm(again)
		if diff := gocmp.Diff(want, got, equateAddr, equateEmpty); diff != "" {
			t.Errorf("parse, format, parse (-first +second):\n%s", diff)
		}
		var twice bytes.Buffer
		if err := rules.Format(&twice, again, true, nil); err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(saveBlocks(text.String()), saveBlocks(twice.String())); diff != "" {
			t.Errorf("formatting what Format wrote and Parse read (-first +second):\n%s", diff)
		}
	})
}

// saveBlocks is -S output as its blocks, each an -A line and the -a lines
// after it, in a canonical order: the same lines of the same blocks, but
// not necessarily the same bytes. 1.31's sort compares IPv4 addresses by a
// subtraction that wraps around (0.0.0.1 < 70.0.0.1 < 170.0.0.1 <
// 0.0.0.1), which is no order: where a set's addresses make such a cycle,
// the sorted order depends on the order sorted, so formatting what Parse
// read back from Format, in Format's order, may order it otherwise, as
// ipvsadm -S of a table restored from ipvsadm -S may (fuzzing found it).
func saveBlocks(text string) []string {
	var blocks [][]string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.HasPrefix(line, "-A ") || len(blocks) == 0 {
			blocks = append(blocks, []string{line})
			continue
		}
		last := &blocks[len(blocks)-1]
		*last = append(*last, line)
	}
	canonical := make([]string, len(blocks))
	for i, b := range blocks {
		slices.Sort(b[1:])
		canonical[i] = strings.Join(b, "\n")
	}
	slices.Sort(canonical)
	return canonical
}

var (
	equateAddr  = cmpopts.EquateComparable(netip.Addr{})
	equateEmpty = cmpopts.EquateEmpty()
)

// errorWords is what an error of Parse says, with the type of its cause.
func errorWords(err error) string {
	var rerr *rules.Error
	if errors.As(err, &rerr) {
		return fmt.Sprintf("%v (%T)", err, rerr.Err)
	}
	return fmt.Sprint(err)
}

// checkParseError checks a refusal of Parse: a *rules.Error on a line of
// the input, with that line's text, a message and ipvsadm's exit status.
func checkParseError(t *testing.T, data []byte, err error) {
	t.Helper()
	var rerr *rules.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("Parse: %v (%T), want a *rules.Error", err, err)
	}
	lines := strings.Split(string(data), "\n")
	switch {
	case rerr.Line < 1 || rerr.Line > len(lines):
		t.Errorf("error on line %d of %d: %v", rerr.Line, len(lines), err)
	case rerr.Message == "" || strings.Contains(rerr.Message, "\n") && !strings.HasPrefix(rerr.Message, "-6 used"):
		t.Errorf("line %d: message %q", rerr.Line, rerr.Message)
	case rerr.Status != 2 && rerr.Status != 255:
		t.Errorf("line %d: status %d", rerr.Line, rerr.Status)
	case rerr.Err == nil:
		t.Errorf("line %d: %v has no cause", rerr.Line, err)
	case rerr.Message == "line too long":
		if len(lines[rerr.Line-1]) <= 64<<10-1 {
			t.Errorf("line %d of %d bytes is too long", rerr.Line, len(lines[rerr.Line-1]))
		}
	case rerr.Text != strings.TrimRight(lines[rerr.Line-1], " \t\r"):
		t.Errorf("line %d is %q: the error's text is %q, want the line without its trailing blanks", rerr.Line, lines[rerr.Line-1], rerr.Text)
	}
}

// restorableNames tells whether the scheduler and persistence engine, the
// two names a restore line takes as they are, can be read back from an -S
// line: the restore drops the word "ipvsadm" wherever it stands, and popt
// replaces "!#:+" in an option's argument with a later argument. Neither
// name is one the kernel has.
func restorableNames(s ipvs.Service) bool {
	for _, name := range []string{s.Scheduler, s.PersistenceEngine} {
		if name == "ipvsadm" || strings.Contains(name, "!#:+") {
			return false
		}
	}
	return true
}

// savedForm is the set as -S writes it (reference §5.11), in canonical
// order, and whether Parse must be able to read that. -S writes services
// and destinations sorted; no thresholds; a netmask only with persistence;
// and of the scheduler flags only those it has a name for (sh and mh name
// two of three). It writes "-b" whenever a flag is set, so when none has a
// name the option lacks its argument and the line may be refused ("-b:
// missing argument"), as 1.31's own -S line is.
func savedForm(set *rules.Set) (*rules.Set, bool) {
	const schedFlags = ipvs.FlagSched1 | ipvs.FlagSched2 | ipvs.FlagSched3
	saved := canonical(set)
	readable := true
	for i := range saved.Services {
		s := &saved.Services[i]
		if s.Flags&ipvs.FlagPersistent == 0 {
			s.Netmask = 0xffffffff
			if s.Family == ipvs.IPv6 {
				s.Netmask = 128
			}
		}
		flagged := s.Flags&schedFlags != 0
		if s.Scheduler == "sh" || s.Scheduler == "mh" {
			s.Flags &^= ipvs.FlagSched3
		}
		if flagged && s.Flags&schedFlags == 0 {
			readable = false
		}
		for j := range s.Destinations {
			d := &s.Destinations[j]
			d.UpperThreshold, d.LowerThreshold = 0, 0
		}
	}
	return saved, readable
}

// canonical is a copy of set without line numbers, services and
// destinations in the order of their keys.
func canonical(set *rules.Set) *rules.Set {
	c := &rules.Set{Services: slices.Clone(set.Services)}
	for i := range c.Services {
		s := &c.Services[i]
		s.Line = 0
		s.Destinations = slices.Clone(s.Destinations)
		for j := range s.Destinations {
			s.Destinations[j].Line = 0
		}
		slices.SortFunc(s.Destinations, func(a, b rules.Destination) int {
			return cmp.Or(a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
		})
	}
	slices.SortFunc(c.Services, func(a, b rules.Service) int {
		return cmp.Or(
			cmp.Compare(a.Family, b.Family),
			cmp.Compare(a.FirewallMark, b.FirewallMark),
			cmp.Compare(a.Protocol, b.Protocol),
			a.Address.Compare(b.Address),
			cmp.Compare(a.Port, b.Port))
	})
	return c
}
