package pipeline

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress shows long work to a person at a terminal.
type Progress interface {
	Start(what string, total int64) // total bytes or messages; <=0 unknown
	Set(done int64)
	Done()
}

// NoProgress shows nothing (CI, logs, tests).
type NoProgress struct{}

func (NoProgress) Start(string, int64) {}
func (NoProgress) Set(int64)           {}
func (NoProgress) Done()               {}

// TerminalProgress returns a progress bar on w when w is a terminal and the
// CI variable is unset; otherwise NoProgress.
func TerminalProgress(w *os.File) Progress {
	if os.Getenv("CI") != "" || !term.IsTerminal(int(w.Fd())) {
		return NoProgress{}
	}
	return &barProgress{w: w}
}

type barProgress struct {
	w   io.Writer
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func (b *barProgress) Start(what string, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if total <= 0 {
		total = -1
	}
	b.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(24),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionClearOnFinish(),
	)
}

func (b *barProgress) Set(done int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		b.bar.Set64(done)
	}
}

func (b *barProgress) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		b.bar.Finish()
		b.bar = nil
	}
}

// trackProgress polls a byte counter until the returned stop is called.
func trackProgress(p Progress, read func() int64) (stop func()) {
	if _, quiet := p.(NoProgress); quiet {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				p.Set(read())
				return
			case <-t.C:
				p.Set(read())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
