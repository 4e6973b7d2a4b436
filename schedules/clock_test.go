package schedules

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock a test moves by hand: After waits until Advance
// passes its time. With auto, After returns at once and moves the clock on
// (for backoff, whose waits are only recorded).
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	armed   chan struct{} // a waiter was added
	auto    bool
	waited  []time.Duration
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, armed: make(chan struct{}, 64)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waited = append(c.waited, d)
	if c.auto || d <= 0 {
		c.now = c.now.Add(max(d, 0))
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	c.armed <- struct{}{}
	return ch
}

// Advance moves the clock and wakes the waiters whose time came.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// Armed waits until something waits on the clock (the cron clock has
// computed its next time), failing the test after a minute.
func (c *fakeClock) Armed(t *testing.T) {
	t.Helper()
	select {
	case <-c.armed:
	case <-time.After(time.Minute):
		t.Fatal("nothing waits on the clock after a minute")
	}
}

// fires collects the fires a scheduler ends, for a test to wait on.
type fires chan *FireResult

func (f fires) hook(r *FireResult) { f <- r }

// next waits for the next fire to end, failing the test after a minute.
func (f fires) next(t *testing.T) *FireResult {
	t.Helper()
	select {
	case r := <-f:
		return r
	case <-time.After(2 * time.Minute):
		t.Fatal("no fire ended within two minutes")
		return nil
	}
}
