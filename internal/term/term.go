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
	fh, ok := osFile(f)
	return ok && term.IsTerminal(int(fh.Fd()))
}

// osFile is the *os.File f is, or writes to (Unwrap() io.Writer).
func osFile(f any) (*os.File, bool) {
	if u, ok := f.(interface{ Unwrap() io.Writer }); ok {
		f = u.Unwrap()
	}
	fh, ok := f.(*os.File)
	return fh, ok
}

// StatusLine keeps one status line (the progress bar) at the bottom of a
// terminal: log lines written through it clear the bar, print, and draw
// it again.
type StatusLine struct {
	mu   sync.Mutex
	w    io.Writer
	line string
	// Width is the terminal's width in columns (0: unknown); a line is
	// cut to one less, since a line that wraps cannot be redrawn in place.
	Width func() int
}

// NewStatusLine returns a status line on terminal w, cut to its width.
func NewStatusLine(w io.Writer) *StatusLine {
	return &StatusLine{w: w, Width: func() int { return Width(w) }}
}

// Width returns the width of terminal f (as IsTerminal finds it), 0 when
// it is not a terminal or cannot tell.
func Width(f any) int {
	fh, ok := osFile(f)
	if !ok {
		return 0
	}
	w, _, err := term.GetSize(int(fh.Fd()))
	if err != nil {
		return 0
	}
	return w
}

// fit cuts line to width-1 columns (runes), with "…" at the end.
func fit(line string, width int) string {
	if width < 2 {
		return line
	}
	rs := []rune(line)
	if len(rs) < width {
		return line
	}
	return string(rs[:width-2]) + "…"
}

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
	if s.Width != nil {
		line = fit(line, s.Width())
	}
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
