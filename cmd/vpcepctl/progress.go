package main

// Progress policy (DESIGN.md "Apply"), from the first second of apply:
// on a terminal (text logs), a live status line (done of total, in
// flight, awaiting status, failed, rate, ETA, elapsed) under one human
// line per finished change, and a heartbeat line every 10s while nothing
// finishes; otherwise the same events as log records (text or JSON) and
// a progress record every 10s.

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/internal/term"
	"github.com/vpcepctl/vpcepctl/plan"
)

// heartbeat is how often progress is told while nothing finishes (on a
// terminal) or at all (in logs).
const heartbeat = 10 * time.Second

// progress renders an apply's events.
type progress struct {
	log    *slog.Logger
	status *term.StatusLine // nil: log records instead of a status line
	lines  io.Writer        // human lines (through status)
	start  time.Time
	stop   chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	counts   apply.Counts
	lastDone time.Time // of the last finished change, or the start
	lastTold time.Time // of the last heartbeat
	lastDraw time.Time
}

// newProgress starts rendering; finish stops it.
func (a *app) newProgress(total int) *progress {
	now := time.Now()
	p := &progress{log: a.log, start: now, lastDone: now, lastTold: now, stop: make(chan struct{}),
		counts: apply.Counts{Total: total}}
	if a.status != nil && a.logFormat == "text" {
		p.status, p.lines = a.status, a.status
	} else if total > 0 {
		p.log.Info("applying", "changes", total)
	}
	p.wg.Go(p.run)
	return p
}

// event is apply.Options.Progress.
func (p *progress) event(ev apply.Event) {
	p.mu.Lock()
	p.counts = ev.Counts
	now := time.Now()
	if ev.Result != nil {
		p.lastDone = now
	}
	redraw := ev.Result != nil || now.Sub(p.lastDraw) >= 100*time.Millisecond // the ticker draws the rest
	p.mu.Unlock()
	if ev.Result != nil {
		p.finished(ev.Result, ev.Took)
	}
	if p.status != nil && redraw {
		p.draw()
	}
}

// finished tells of one change that ended.
func (p *progress) finished(r *apply.Result, took time.Duration) {
	if r.Action == string(plan.Conflict) || r.Action == string(plan.Noop) || strings.HasPrefix(r.Error, "not started") {
		return // in the plan, or in the summary
	}
	verb, failed := pastTense(r), r.Error != ""
	if p.status == nil {
		attrs := []any{"action", r.Action, "set", r.Set, "name", r.Name, "id", r.ID, "status", r.Status,
			"attempts", r.Attempts, "after", took.Round(time.Second).String()}
		if failed {
			p.log.Warn("change failed", append(attrs, "err", r.Error)...)
		} else {
			p.log.Info(verb, attrs...)
		}
		return
	}
	if r.Status == "pendingAcceptance" {
		verb += ", awaiting the service owner's approval (pendingAcceptance)"
	}
	sym := symbols[plan.Action(r.Action)]
	line := fmt.Sprintf("%s %s/%s %s", sym, r.Set, r.Name, verb)
	if r.ID != "" {
		line += " (id " + r.ID + ")"
	}
	if took > 0 {
		line += " after " + took.Round(time.Second).String()
	}
	if failed {
		line = fmt.Sprintf("! %s/%s %s failed after %s: %s", r.Set, r.Name, r.Action, took.Round(time.Second), r.Error)
	}
	fmt.Fprintln(p.lines, line)
}

// symbols are the plan's symbols of the actions.
var symbols = map[plan.Action]string{plan.Create: "+", plan.Tag: "~", plan.Replace: "-/+", plan.Adopt: "&", plan.Delete: "-"}

// pastTense says what happened to a change that did not fail.
func pastTense(r *apply.Result) string {
	var s string
	switch plan.Action(r.Action) {
	case plan.Create:
		s = "created"
	case plan.Tag:
		s = "tagged"
	case plan.Replace:
		s = "replaced"
	case plan.Adopt:
		s = "adopted"
	case plan.Delete:
		s = "deleted"
	default:
		s = r.Action
	}
	return s
}

// run redraws the status line and tells the heartbeat until stop.
func (p *progress) run() {
	every := heartbeat
	if p.status != nil {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if p.status == nil {
			p.log.Info("progress", p.attrs()...)
			continue
		}
		p.draw()
		p.mu.Lock()
		quiet := time.Since(p.lastDone) >= heartbeat && time.Since(p.lastTold) >= heartbeat
		if quiet {
			p.lastTold = time.Now()
		}
		p.mu.Unlock()
		if quiet {
			fmt.Fprintf(p.lines, "  ... %s\n", p.summary())
		}
	}
}

// draw sets the status line.
func (p *progress) draw() {
	p.mu.Lock()
	c := p.counts
	p.lastDraw = time.Now()
	p.mu.Unlock()
	const width = 20
	n := width * c.Done / max(c.Total, 1)
	p.status.Set(fmt.Sprintf("[%s%s] %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), p.summaryOf(c)))
}

// summary is the counts in words.
func (p *progress) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.summaryOf(p.counts)
}

func (p *progress) summaryOf(c apply.Counts) string {
	elapsed := time.Since(p.start)
	s := fmt.Sprintf("%d/%d done, %d in flight, %d awaiting status, %d failed", c.Done, c.Total, c.InFlight(), c.Waiting, c.Failed)
	if rate, eta, ok := p.pace(c, elapsed); ok {
		s += fmt.Sprintf(", %.1f/s, ETA %s", rate, eta.Round(time.Second))
	}
	return s + ", " + elapsed.Round(time.Second).String()
}

// pace is the rate of finished changes and the time the others take at
// it, once some finished.
func (p *progress) pace(c apply.Counts, elapsed time.Duration) (float64, time.Duration, bool) {
	if c.Done == 0 || elapsed < time.Second {
		return 0, 0, false
	}
	rate := float64(c.Done) / elapsed.Seconds()
	return rate, time.Duration(float64(c.Total-c.Done) / rate * float64(time.Second)), true
}

// attrs are the counts as log attributes.
func (p *progress) attrs() []any {
	p.mu.Lock()
	c := p.counts
	p.mu.Unlock()
	elapsed := time.Since(p.start)
	attrs := []any{"done", c.Done, "total", c.Total, "in_flight", c.InFlight(), "awaiting_status", c.Waiting,
		"failed", c.Failed, "elapsed", elapsed.Round(time.Second).String()}
	if rate, eta, ok := p.pace(c, elapsed); ok {
		attrs = append(attrs, "rate", fmt.Sprintf("%.2f/s", rate), "eta", eta.Round(time.Second).String())
	}
	return attrs
}

// finish stops the rendering and clears the status line.
func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	if p.status != nil {
		p.status.Clear()
	}
}
