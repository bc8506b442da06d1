package compat

import (
	"bufio"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lvsgo/ipvsadm/ipvs"
)

func TestWriteSaveGoldens(t *testing.T) {
	tests := []struct {
		golden  string
		numeric bool
	}{
		{"-Sn", true},
		{"-S", false},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got := written(t, func(w *bufio.Writer) error {
				return writeSave(w, sampleTable(), tt.numeric, sampleNames())
			})
			if diff := cmp.Diff(goldenText(t, tt.golden), got); diff != "" {
				t.Errorf("ipvsadm %s (-want +got):\n%s", tt.golden, diff)
			}
		})
	}
}

func TestWriteSave(t *testing.T) {
	dest := func(a string, port uint16, fwd ipvs.Forwarding) ipvs.DestinationExtended {
		return ipvs.DestinationExtended{Destination: ipvs.Destination{Address: addr(a), Port: port, Forwarding: fwd, Weight: 1}}
	}
	tunnel := func(a string, tt ipvs.TunnelType, port uint16, flags ipvs.TunnelFlags) ipvs.DestinationExtended {
		return ipvs.DestinationExtended{Destination: ipvs.Destination{Address: addr(a), Forwarding: ipvs.Tunnel,
			TunnelType: tt, TunnelPort: port, TunnelFlags: flags}}
	}
	tests := []struct {
		name  string
		svc   ipvs.Service
		dests []ipvs.DestinationExtended
		want  string
	}{
		{
			name: "forwarding switches: Local is -g, (null) for the rest",
			svc:  ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.0.0.1"), Port: 80, Scheduler: "wlc", Netmask: 0xffffffff},
			dests: []ipvs.DestinationExtended{
				dest("10.0.0.2", 80, ipvs.Local), dest("10.0.0.3", 80, ipvs.Bypass), dest("10.0.0.4", 80, 6),
				{Destination: ipvs.Destination{Address: addr("10.0.0.5"), Port: 80, Weight: -3}},
			},
			want: "-A -t 10.0.0.1:80 -s wlc\n" +
				"-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1\n" +
				"-a -t 10.0.0.1:80 -r 10.0.0.3:80 (null) -w 1\n" +
				"-a -t 10.0.0.1:80 -r 10.0.0.4:80 (null) -w 1\n" +
				"-a -t 10.0.0.1:80 -r 10.0.0.5:80 -m -w -3\n",
		},
		{
			name: "tunnel options; past the flags table (1.31 crashes) (null)",
			svc:  ipvs.Service{Protocol: ipvs.UDP, Address: addr("10.0.0.1"), Port: 53, Scheduler: "rr", Netmask: 0xffffffff},
			dests: []ipvs.DestinationExtended{
				tunnel("10.0.0.2", ipvs.IPIP, 0, 0),
				tunnel("10.0.0.3", ipvs.GUE, 6080, ipvs.TunnelRemoteChecksum),
				tunnel("10.0.0.4", ipvs.GRE, 0, 0),
				tunnel("10.0.0.5", 7, 0, 0),
				tunnel("10.0.0.6", ipvs.GRE, 0, 3),
				tunnel("2001:db8::7", ipvs.GUE, 1, 0),
			},
			want: "-A -u 10.0.0.1:53 -s rr\n" +
				"-a -u 10.0.0.1:53 -r 10.0.0.2:0 -i -w 0 --tun-type ipip\n" +
				"-a -u 10.0.0.1:53 -r 10.0.0.3:0 -i -w 0 --tun-type gue --tun-port 6080 --tun-remcsum\n" +
				"-a -u 10.0.0.1:53 -r 10.0.0.4:0 -i -w 0 --tun-type gre --tun-nocsum\n" +
				"-a -u 10.0.0.1:53 -r 10.0.0.5:0 -i -w 0\n" +
				"-a -u 10.0.0.1:53 -r 10.0.0.6:0 -i -w 0 --tun-type gre (null)\n" +
				"-a -u 10.0.0.1:53 -r [2001:db8::7]:0 -i -w 0 --tun-type gue --tun-port 1 --tun-nocsum\n",
		},
		{
			name: "engine without persistence, one-packet, flags",
			svc: ipvs.Service{Protocol: ipvs.UDP, Address: addr("10.0.0.1"), Port: 5060, Scheduler: "rr",
				Flags: ipvs.FlagOnePacket | ipvs.FlagSched2, PersistenceEngine: "sip", Netmask: 0xffffffff},
			want: "-A -u 10.0.0.1:5060 -s rr --pe sip -o -b flag-2\n",
		},
		{
			name: "persistence with every option",
			svc: ipvs.Service{Protocol: ipvs.SCTP, Address: addr("10.0.0.1"), Port: 9999, Scheduler: "sh",
				Flags: ipvs.FlagPersistent | ipvs.FlagOnePacket | ipvs.FlagSched2, Timeout: 7, Netmask: 24,
				PersistenceEngine: "sip"},
			want: "-A --sctp-service 10.0.0.1:9999 -s sh -p 7 -M 0.0.0.24 --pe sip -o -b sh-port\n",
		},
		{
			// sh names only two of its flags, and -b goes out without an
			// argument.
			name: "sh with the third flag only",
			svc: ipvs.Service{Protocol: ipvs.TCP, Address: addr("10.0.0.1"), Port: 80, Scheduler: "sh",
				Flags: ipvs.FlagSched3, Netmask: 0xffffffff},
			want: "-A -t 10.0.0.1:80 -s sh -b \n",
		},
		{
			name:  "unknown protocol",
			svc:   ipvs.Service{Protocol: 99, Address: addr("10.0.0.1"), Port: 80, Scheduler: "rr", Netmask: 0xffffffff},
			dests: []ipvs.DestinationExtended{dest("10.0.0.2", 80, ipvs.Route)},
			want: "-A --xxx-service 10.0.0.1:80 -s rr\n" +
				"-a --xxx-service 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1\n",
		},
		{
			name: "IPv6 persistence mask",
			svc: ipvs.Service{Family: ipvs.IPv6, Protocol: ipvs.TCP, Address: addr("2001:db8::1"), Port: 443,
				Scheduler: "rr", Flags: ipvs.FlagPersistent, Timeout: 360, Netmask: 48},
			want: "-A -t [2001:db8::1]:443 -s rr -p 360 -M 48\n",
		},
		{
			// 1.31 writes -f -1, which -R refuses.
			name: "fwmark unsigned",
			svc: ipvs.Service{FirewallMark: 4294967295, Scheduler: "rr", Flags: ipvs.FlagPersistent, Timeout: 1,
				Netmask: 0xffffffff},
			dests: []ipvs.DestinationExtended{dest("10.0.0.2", 80, ipvs.Route)},
			want: "-A -f 4294967295 -s rr -p 1\n" +
				"-a -f 4294967295 -r 10.0.0.2:80 -g -w 1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := written(t, func(w *bufio.Writer) error {
				return writeSave(w, []serviceTable{{ipvs.ServiceExtended{Service: tt.svc}, tt.dests}}, true, nil)
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteSaveNames checks that -S cuts names only at 59 bytes, and names
// ports by the service's protocol.
func TestWriteSaveNames(t *testing.T) {
	long := "a-very-long-host-name-for-truncation-tests.example.org"
	names := FileNames([]byte("10.0.0.1 "+long+"\n10.0.0.2 twenty-seven-bytes-long.org\n"),
		[]byte("http 80/tcp\nsip 5060/udp\n"))
	table := []serviceTable{
		{
			service: ipvs.ServiceExtended{Service: ipvs.Service{Protocol: ipvs.UDP, Address: addr("10.0.0.2"), Port: 5060,
				Scheduler: "rr"}},
			dests: []ipvs.DestinationExtended{
				{Destination: ipvs.Destination{Address: addr("10.0.0.1"), Port: 5060, Forwarding: ipvs.Masquerade}},
				{Destination: ipvs.Destination{Address: addr("10.0.0.2"), Port: 80, Forwarding: ipvs.Masquerade}},
			},
		},
	}
	got := written(t, func(w *bufio.Writer) error { return writeSave(w, table, false, names) })
	want := "-A -u twenty-seven-bytes-long.org:sip -s rr\n" +
		"-a -u twenty-seven-bytes-long.org:sip -r " + long + ":sip -m -w 0\n" +
		"-a -u twenty-seven-bytes-long.org:sip -r twenty-seven-bytes-long.org:80 -m -w 0\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
