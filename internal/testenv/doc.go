// Package testenv is what the tests of several packages share about the
// world the golden scenarios ran in (testdata/scenarios/README.md).
package testenv
