// Package term is vpcepctl's terminal side: whether a stream is a
// terminal, the status line that keeps a progress bar below the log lines,
// and the progress of a run (a bar on a terminal, a log line otherwise).
package term

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// IsTerminal reports whether f (a reader or a writer) is an *os.File on a
// terminal, or a writer that writes to one and says so with an
// Unwrap() io.Writer method (such as the run's redacting streams).
func IsTerminal(f any) bool {
	if u, ok := f.(interface{ Unwrap() io.Writer }); ok {
		f = u.Unwrap()
	}
	if fh, ok := f.(*os.File); ok {
		return term.IsTerminal(int(fh.Fd()))
	}
	return false
}

// StatusLine keeps one status line (the progress bar) at the bottom of a
// terminal: log lines written through it clear the bar, print, and draw
// it again.
type StatusLine struct {
	mu   sync.Mutex
	w    io.Writer
	line string
}

// NewStatusLine returns a status line on terminal w.
func NewStatusLine(w io.Writer) *StatusLine { return &StatusLine{w: w} }

func (s *StatusLine) Write(p []byte) (int, error) {
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

// Set draws line as the status line.
func (s *StatusLine) Set(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = io.WriteString(s.w, "\r\x1b[K"+line)
	s.line = line
}

// Clear removes the status line.
func (s *StatusLine) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.line != "" {
		_, _ = io.WriteString(s.w, "\r\x1b[K")
	}
	s.line = ""
}

// Progress shows a run's progress: a bar on the status line of a
// terminal, a log line every few seconds otherwise.
type Progress struct {
	status *StatusLine // nil: not a terminal
	log    *slog.Logger
	start  time.Time

	mu   sync.Mutex
	last time.Time
}

// NewProgress starts the progress of a run, shown on status (nil: not a
// terminal) or logged to log.
func NewProgress(status *StatusLine, log *slog.Logger) *Progress {
	now := time.Now()
	return &Progress{status: status, log: log, start: now, last: now}
}

// Update reports done of total changes finished.
func (p *Progress) Update(done, total int) {
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
		p.status.Set(fmt.Sprintf("[%s%s] %d/%d %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total,
			now.Sub(p.start).Round(time.Second)))
	default:
		if now.Sub(p.last) < 5*time.Second {
			return
		}
		p.log.Info("progress", "done", done, "total", total, "elapsed", now.Sub(p.start).Round(time.Second))
	}
	p.last = now
}

// Finish removes the bar.
func (p *Progress) Finish() {
	if p.status != nil {
		p.status.Clear()
	}
}
