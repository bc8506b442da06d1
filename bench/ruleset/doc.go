// Package ruleset makes the synthetic IPVS tables the benchmark loads: a
// number of TCP services, each with the same number of masquerading
// destinations, written as ipvsadm -R input.
//
//	s := ruleset.Set{Services: 1000, DestsPerService: 4}
//	err := s.WriteRestore(w) // "-A -t 10.1.0.1:80 -s rr", "-a -t 10.1.0.1:80 -r 10.128.0.1:8080 -m -w 1", ...
//
// Every address lies in 10.0.0.0/8, one half of the 32-bit circle:
// ipvsadm 1.31 sorts its listings by the sign of a 32-bit difference, which
// is a true order only there, so both programs list the table in one order
// that does not depend on how they sort.
package ruleset
