package testenv

import (
	"os"
	"testing"

	"github.com/lvsgo/ipvsadm/compat"
)

// GoldenNames answers name lookups from the scenarios' /etc/hosts and
// /etc/services (testdata/etc), the files the reference read in the VM. It
// reads them relative to a package folder at the top of the module, where
// go test runs a package's tests.
func GoldenNames(t testing.TB) compat.Names {
	t.Helper()
	hosts, err := os.ReadFile("../testdata/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	services, err := os.ReadFile("../testdata/etc/services")
	if err != nil {
		t.Fatal(err)
	}
	return compat.FileNames(hosts, services)
}
