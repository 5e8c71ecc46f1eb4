package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// isTerminal reports whether r or w is an *os.File on a terminal (or a
// writer that writes to one, such as the run's redacting streams).
func isTerminal(f any) bool {
	if u, ok := f.(interface{ Unwrap() io.Writer }); ok {
		f = u.Unwrap()
	}
	if fh, ok := f.(*os.File); ok {
		return term.IsTerminal(int(fh.Fd()))
	}
	return false
}

// color reports whether to colour output on w: a terminal, and NO_COLOR
// unset.
func (a *app) color(w io.Writer) bool {
	return isTerminal(w) && a.getenv("NO_COLOR") == "" && a.getenv("TERM") != "dumb"
}

// statusLine keeps one status line (the progress bar) at the bottom of a
// terminal: log lines written through it clear the bar, print, and draw
// it again.
type statusLine struct {
	mu   sync.Mutex
	w    io.Writer
	line string
}

func (s *statusLine) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.line != "" {
		_, _ = io.WriteString(s.w, "\r\x1b[K")
	}
	n, err := s.w.Write(p)
	if s.line != "" {
		_, _ = io.WriteString(s.w, s.line)
	}
	return n, err
}

func (s *statusLine) set(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = io.WriteString(s.w, "\r\x1b[K"+line)
	s.line = line
}

func (s *statusLine) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.line != "" {
		_, _ = io.WriteString(s.w, "\r\x1b[K")
	}
	s.line = ""
}

// progress shows apply's progress: a bar on a terminal (stderr), a log
// line every few seconds otherwise.
type progress struct {
	a      *app
	status *statusLine // nil: not a terminal
	start  time.Time

	mu   sync.Mutex
	last time.Time
}

func (a *app) newProgress() *progress {
	return &progress{a: a, status: a.status, start: time.Now(), last: time.Now()}
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	switch {
	case p.status != nil:
		if now.Sub(p.last) < 100*time.Millisecond && done < total {
			return
		}
		const width = 30
		n := width * done / max(total, 1)
		p.status.set(fmt.Sprintf("[%s%s] %d/%d %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total,
			now.Sub(p.start).Round(time.Second)))
	default:
		if now.Sub(p.last) < 5*time.Second {
			return
		}
		p.a.log.Info("progress", "done", done, "total", total, "elapsed", now.Sub(p.start).Round(time.Second))
	}
	p.last = now
}

func (p *progress) finish() {
	if p.status != nil {
		p.status.clear()
	}
}
