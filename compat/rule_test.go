package compat_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvsgo/ipvsadm/compat"
)

// TestAppendRuleWritesWholeWrites: a write as a rule (--dry-run plans,
// restore errors) says all it sets, also what -S leaves out (a netmask
// without persistence, thresholds, the third flag of sh and mh), so that a
// plan that changes only those does not read as a no-op; and it reads back
// as the same write.
func TestAppendRuleWritesWholeWrites(t *testing.T) {
	tests := []struct{ line, want string }{
		{"-A -t 10.0.0.1:80 -s rr", "-A -t 10.0.0.1:80 -s rr"},
		{"-E -t 10.0.0.1:80 -s rr -M 255.255.255.0", "-E -t 10.0.0.1:80 -s rr -M 255.255.255.0"},
		{"-A -t 10.0.0.1:80 -s rr -p 60 -M 255.255.0.0", "-A -t 10.0.0.1:80 -s rr -p 60 -M 255.255.0.0"},
		{"-A -u [2001:db8::1]:53 -s wlc -M 64", "-A -u [2001:db8::1]:53 -s wlc -M 64"},
		{"-A -t 10.0.0.1:80 -s sh -b flag-3", "-A -t 10.0.0.1:80 -s sh -b flag-3"},
		{"-A -t 10.0.0.1:80 -s mh -b mh-port,flag-3", "-A -t 10.0.0.1:80 -s mh -b mh-port,flag-3"},
		{"-A -t 10.0.0.1:80 -s rr -b flag-3", "-A -t 10.0.0.1:80 -s rr -b flag-3"},
		{"-e -t 10.0.0.1:80 -r 10.0.1.1:80 -m -x 10 -y 5", "-e -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1 -x 10 -y 5"},
		{"-a -t 10.0.0.1:80 -r 10.0.1.1:80 -y 5", "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 1 -x 0 -y 5"},
		{"-d -t 10.0.0.1:80 -r 10.0.1.1:80", "-d -t 10.0.0.1:80 -r 10.0.1.1:80"},
	}
	names := compat.FileNames(nil, nil)
	for _, tt := range tests {
		op, err := compat.ParseRule(compat.SplitLine(tt.line), names)
		if err != nil {
			t.Fatalf("%s: %v", tt.line, err)
		}
		got := string(compat.AppendRule(nil, op))
		if got != tt.want {
			t.Errorf("AppendRule of %q = %q, want %q", tt.line, got, tt.want)
		}
		again, err := compat.ParseRule(compat.SplitLine(got), names)
		if err != nil {
			t.Errorf("%q does not read back: %v", got, err)
		} else if diff := cmp.Diff(op, again, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("%q reads back as another write (-want +got):\n%s", got, diff)
		}
	}
}
