package rules

import (
	"github.com/lvsgo/ipvsadm/compat"
	"github.com/lvsgo/ipvsadm/ipvs"
)

// ParseAhead parses input as Parse does, the grammar of its lines on
// workers goroutines in chunks of about chunk bytes (Parse does so only
// for long inputs), so that FuzzParse can hold it to what Parse does.
func ParseAhead(input string, names compat.Names, workers, chunk int) (*Set, error) {
	return parseInput(input, names, workers, chunk)
}

// UndoAll makes the writes of a rollback, as Apply does when a write is
// refused.
func UndoAll(t Table, undo []ipvs.Op) error { return undoAll(t, undo) }
