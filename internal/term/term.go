// Package term is vpcepctl's terminal side: whether a stream is a
// terminal, and the status line that keeps a progress bar below the lines
// written above it.
package term

import (
	"io"
	"os"
	"sync"

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
