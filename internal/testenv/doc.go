// Package testenv is what the tests of several packages share about the
// golden scenarios (testdata/scenarios/README.md): the scenario files
// themselves, and the world they ran in.
package testenv
