package rules

import "github.com/lvsgo/ipvsadm/compat"

// ParseAhead parses input as Parse does, the grammar of its lines on
// workers goroutines in chunks of about chunk bytes (Parse does so only
// for long inputs), so that FuzzParse can hold it to what Parse does.
func ParseAhead(input string, names compat.Names, workers, chunk int) (*Set, error) {
	return parseInput(input, names, workers, chunk)
}
