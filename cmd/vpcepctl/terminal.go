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

// isTerminal reports whether r or w is an *os.File on a terminal.
func isTerminal(f any) bool {
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

// progress shows apply's progress: a bar on a terminal (stderr), a log
// line every few seconds otherwise.
type progress struct {
	a     *app
	total int
	tty   bool
	start time.Time

	mu   sync.Mutex
	last time.Time
	done int
}

func (a *app) newProgress(total int) *progress {
	return &progress{a: a, total: total, tty: isTerminal(a.stderr), start: time.Now(), last: time.Now()}
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = done
	now := time.Now()
	switch {
	case p.tty:
		if now.Sub(p.last) < 100*time.Millisecond && done < total {
			return
		}
		const width = 30
		n := width * done / max(total, 1)
		fmt.Fprintf(p.a.stderr, "\r[%s%s] %d/%d %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total,
			now.Sub(p.start).Round(time.Second))
	default:
		if now.Sub(p.last) < 5*time.Second {
			return
		}
		p.a.log.Info("progress", "done", done, "total", total, "elapsed", now.Sub(p.start).Round(time.Second))
	}
	p.last = now
}

func (p *progress) finish() {
	if p.tty {
		fmt.Fprintln(p.a.stderr)
	}
}
