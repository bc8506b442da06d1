//go:build !linux

package ipvs

import (
	"fmt"
	"runtime"

	"github.com/mdlayher/netlink"
)

var errUnsupported = fmt.Errorf("ipvs: not supported on %s/%s", runtime.GOOS, runtime.GOARCH)

type client struct{}

func newClient() (*client, error) { return nil, errUnsupported }

func initClient(conn *netlink.Conn) (*client, error) {
	_ = conn.Close()
	return nil, errUnsupported
}

func (*client) Close() error                                   { return errUnsupported }
func (*client) Info() (Info, error)                            { return Info{}, errUnsupported }
func (*client) WalkServices(func(ServiceExtended) error) error { return errUnsupported }
func (*client) walkServicesChunked(int, func(ServiceExtended) error) error {
	return errUnsupported
}
func (*client) Service(Service) (ServiceExtended, error) { return ServiceExtended{}, errUnsupported }
func (*client) WalkDestinations(Service, func(DestinationExtended) error) error {
	return errUnsupported
}
func (*client) Timeouts() (Timeouts, error)             { return Timeouts{}, errUnsupported }
func (*client) Daemons() ([]Daemon, error)              { return nil, errUnsupported }
func (*client) write(Op) error                          { return errUnsupported }
func (*client) apply([]Op, func(int, error) bool) error { return errUnsupported }

type writer struct{}

func (*client) newWriter(func(int, error) bool) *writer { return &writer{} }
func (*writer) write(Op) error                          { return errUnsupported }
func (*writer) flush() error                            { return errUnsupported }
