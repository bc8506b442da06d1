package ipvs

import (
	"github.com/mdlayher/netlink"
)

// A Client talks to the kernel's IPVS. It holds one netlink socket and
// resolves the IPVS family once. A Client is safe for concurrent use; its
// requests are serialised, except dumps of destinations, which run on up to
// four sockets of their own at once (with small buffers: the kernel sizes
// its dump chunks after them), so that the destinations of many services
// can be listed in parallel.
type Client struct {
	c *client
}

// New dials the IPVS family of the calling thread's network namespace. If the
// kernel has no IPVS family, the error answers errors.Is(err,
// ErrFamilyNotFound).
func New() (*Client, error) {
	c, err := newClient()
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// NewFromConn makes a Client on conn, a generic netlink connection: the
// package ipvstest provides one served by an in-memory kernel. The Client
// owns conn and closes it, also when NewFromConn fails.
func NewFromConn(conn *netlink.Conn) (*Client, error) {
	c, err := initClient(conn)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Close releases the Client's socket.
func (c *Client) Close() error { return c.c.Close() }

// Info reports the kernel's IPVS version and connection table size.
func (c *Client) Info() (Info, error) { return c.c.Info() }

// Services lists every virtual service, each once (see ReadServices). An
// empty table is an empty slice.
func (c *Client) Services() ([]ServiceExtended, error) {
	list, err := c.ReadServices()
	if err != nil {
		return nil, err
	}
	services := make([]ServiceExtended, list.Len())
	for i := range services {
		services[i] = *list.At(i)
	}
	return services, nil
}

// WalkServices calls fn for each virtual service as the kernel's dump
// arrives, without holding the whole table. While another process changes
// the table, the dump may skip or repeat a service (see ReadServices). An error from fn stops the walk
// and is returned. fn must not call the Client: the walk holds its socket.
func (c *Client) WalkServices(fn func(ServiceExtended) error) error {
	return c.c.WalkServices(fn)
}

// Service reads one virtual service, identified by the key fields of s
// (Family, Protocol, Address and Port, or FirewallMark). A missing service
// answers errors.Is(err, os.ErrNotExist).
func (c *Client) Service(s Service) (ServiceExtended, error) { return c.c.Service(s) }

// CreateService adds a virtual service.
func (c *Client) CreateService(s Service) error {
	return c.c.write(Op{Command: CmdNewService, Service: s})
}

// UpdateService replaces the settings of the virtual service with s's key:
// every field is set, none is kept.
func (c *Client) UpdateService(s Service) error {
	return c.c.write(Op{Command: CmdSetService, Service: s})
}

// DeleteService removes the virtual service with s's key and its
// destinations.
func (c *Client) DeleteService(s Service) error {
	return c.c.write(Op{Command: CmdDelService, Service: s})
}

// Destinations lists the destinations of the virtual service with s's key,
// in the kernel's order. A missing service has none.
func (c *Client) Destinations(s Service) ([]DestinationExtended, error) {
	dests := []DestinationExtended{}
	err := c.WalkDestinations(s, func(d DestinationExtended) error {
		dests = append(dests, d)
		return nil
	})
	return dests, err
}

// WalkDestinations calls fn for each destination of the virtual service with
// s's key as the kernel's dump arrives. An error from fn stops the walk and
// is returned. fn must not call the Client: the walk holds its socket.
func (c *Client) WalkDestinations(s Service, fn func(DestinationExtended) error) error {
	return c.c.WalkDestinations(s, fn)
}

// CreateDestination adds d to the virtual service with s's key.
func (c *Client) CreateDestination(s Service, d Destination) error {
	return c.c.write(Op{Command: CmdNewDestination, Service: s, Destination: d})
}

// UpdateDestination replaces the settings of the destination with d's key.
func (c *Client) UpdateDestination(s Service, d Destination) error {
	return c.c.write(Op{Command: CmdSetDestination, Service: s, Destination: d})
}

// DeleteDestination removes the destination with d's key.
func (c *Client) DeleteDestination(s Service, d Destination) error {
	return c.c.write(Op{Command: CmdDelDestination, Service: s, Destination: d})
}

// Timeouts reads the connection timeouts.
func (c *Client) Timeouts() (Timeouts, error) { return c.c.Timeouts() }

// SetTimeouts sets the connection timeouts; a zero field is left unchanged.
func (c *Client) SetTimeouts(t Timeouts) error {
	return c.c.write(Op{Command: CmdSetConfig, Timeouts: t})
}

// Daemons lists the running synchronisation daemons, master first.
func (c *Client) Daemons() ([]Daemon, error) { return c.c.Daemons() }

// StartDaemon starts a synchronisation daemon.
func (c *Client) StartDaemon(d Daemon) error {
	return c.c.write(Op{Command: CmdNewDaemon, Daemon: d})
}

// StopDaemon stops the synchronisation daemon in state s.
func (c *Client) StopDaemon(s DaemonState) error {
	return c.c.write(Op{Command: CmdDelDaemon, Daemon: Daemon{State: s}})
}

// ZeroAll resets the counters of every service and destination.
func (c *Client) ZeroAll() error { return c.c.write(Op{Command: CmdZero}) }

// ZeroService resets the counters of the virtual service with s's key and of
// its destinations.
func (c *Client) ZeroService(s Service) error {
	if s == (Service{}) {
		return invalidf("zeroing needs a service key; use ZeroAll for all")
	}
	return c.c.write(Op{Command: CmdZero, Service: s})
}

// Flush removes every virtual service. Timeouts and daemons stay.
func (c *Client) Flush() error { return c.c.write(Op{Command: CmdFlush}) }

// Apply sends ops in order, in batches of many requests per system call, and
// calls fn with the outcome of each op that was sent, in order: nil, or an
// *Error with the kernel's errno. The kernel goes on with the rest of a batch
// after a failed op, so fn hears of every op sent; when fn returns false, no
// further batch is sent. Ops not reported were not sent.
//
// Every op is checked before anything is sent: if one is malformed, Apply
// returns an error that answers errors.Is(err, ErrInvalid) and sends nothing.
// Any other error from Apply is a failure of the socket itself.
func (c *Client) Apply(ops []Op, fn func(i int, err error) bool) error {
	return c.c.apply(ops, fn)
}
