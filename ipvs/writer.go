package ipvs

// A Writer sends writes to the kernel as they come, many requests per system
// call, while its caller goes on preparing the next ones: a restore parses
// its next lines while the kernel carries out the lines before. It holds a
// window of writes until it is full, then hands it to the kernel and starts
// the next; one window is with the kernel at a time.
//
// The kernel answers only the writes it refuses (the requests do not ask for
// an acknowledgement of success), and a no-op that is acknowledged ends every
// window, so that the Writer knows when the kernel is through with it.
//
// fn hears the outcome of every write Write accepted, in the order written,
// on the caller's goroutine, from within Write or Flush: nil, or an *Error
// with the kernel's errno. If the socket itself fails, the outcome of the
// writes it had not answered is unknown: they are not reported, and Flush
// and every later Write return the failure.
//
// A Writer is not safe for concurrent use. While it has writes in flight,
// other requests of its Client wait for them; call Flush before reading the
// table to see them.
type Writer struct {
	w *writer
}

// NewWriter returns a Writer that sends writes through c and reports their
// outcomes to fn; the index is the write's position among those Write
// accepted, counting from 0.
func (c *Client) NewWriter(fn func(i int, err error)) *Writer {
	return &Writer{w: c.c.newWriter(func(i int, err error) bool {
		fn(i, err)
		return true
	})}
}

// Write queues op and sends the window when it is full. A malformed op is
// refused before anything is sent, with an error that answers
// errors.Is(err, ErrInvalid); it is not queued and has no index.
func (w *Writer) Write(op Op) error { return w.w.write(op) }

// Flush sends the writes queued and waits until the kernel has answered
// every write sent; fn has then heard of each.
func (w *Writer) Flush() error { return w.w.flush() }
