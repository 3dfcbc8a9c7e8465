package main

import "sync"

// coalescer runs reloads one at a time and folds requests together: a
// request made while a reload runs waits for the next one, which every
// request made meanwhile shares. Each caller gets the result of a reload
// that started after its request, at most one reload runs, and at most one
// more is pending, however many requests come in.
type coalescer struct {
	run     func() error
	running sync.Mutex // held by the reload in progress
	mu      sync.Mutex // guards pending
	pending *reloadCall
}

type reloadCall struct {
	done chan struct{}
	err  error
}

func newCoalescer(run func() error) *coalescer { return &coalescer{run: run} }

// Do requests a reload and returns its result.
func (c *coalescer) Do() error {
	call := c.request()
	<-call.done
	return call.err
}

// request joins the pending reload, or makes one pending, and returns it.
func (c *coalescer) request() *reloadCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = &reloadCall{done: make(chan struct{})}
		go c.start(c.pending)
	}
	return c.pending
}

// start waits for the reload in progress, then runs call's, which requests
// made from now on no longer join.
func (c *coalescer) start(call *reloadCall) {
	c.running.Lock()
	defer c.running.Unlock()
	c.mu.Lock()
	c.pending = nil
	c.mu.Unlock()
	call.err = c.run()
	close(call.done)
}
