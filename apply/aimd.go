package apply

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vpcepctl/vpcepctl/otc"
)

// This file holds the policy that paces a target's requests: a token
// bucket (x/time/rate) whose rate follows the API's answers. Every request
// to a target, retries and status polls included, takes a token first.

// AIMD is a rate limiter that adapts to throttling (additive or
// multiplicative increase, multiplicative decrease). It implements
// otc.Pacer; one is shared by every request to a target.
//
// One cut per congestion event: every Wait hands out a ticket (a sequence
// number), and a throttled answer cuts the rate only when its request was
// sent after the last cut. The answers to the requests that were already
// in flight, or queued, when the API began throttling are the same event,
// however long they take to arrive.
//
// The cut goes to Margin times the API's limit as this client sees it,
// which becomes the reference limit. The estimator counts, over a window
// of EstimateSpan or of the time twenty answers take at the current rate
// when that is longer (so that it works from 1 request/s up), the answers
// that were not throttled, the share that was, and the requests sent.
// Throttled often while sending far more than got through, the client was
// flooding: the limit is what got through. Otherwise it was probing: the
// limit is the rate at which it sent when the throttling began. The cut
// stays between half the rate and MaxBeta of it. Without an estimate the
// cut is Beta, or half when the last cut was less than a second ago.
// After the first cut the bucket's burst drops to the requests of 10ms
// (at least one): bursts are what a server's own bucket throttles.
//
// The climb back is bounded in time. After a cut at a limit found while
// probing, the rate returns to it along a curve that flattens as it gets
// there (over Plateau, or the time of PlateauAnswers answers at low rates,
// so that a steady run is throttled in few of its requests), then probes
// above it, multiplying by 1.1 per second. After a guess or a flood's
// rough limit it climbs by 1.25 per second after a second. When the API
// allowed a much higher rate within the last Memory (the peak, decaying),
// a burst of throttling is taken to have passed: the rate doubles per
// second up to the peak. Before the first throttled answer the rate climbs
// by Step per second. It stays between Floor and Max.
//
// The figures (the fake-clock flows at 1 to 200 requests/s in
// aimd_flow_test.go, and make bench against the simulator) are in
// README.md.
type AIMD struct {
	Max   float64 // the ceiling: --rate
	Burst int     // token bucket burst: --burst; default 1
	Floor float64 // never below this; default Max/100, at least 0.1
	Step  float64 // increase per second before any throttling; default Max/50, at least 0.1
	// Beta is the cut without an estimate; default 0.7.
	Beta float64
	// MaxBeta bounds a cut from above: every cut lowers the rate at least
	// to MaxBeta times it; default 0.95.
	MaxBeta float64
	// Margin is the share of the estimated limit the rate is cut to;
	// default 0.95.
	Margin float64
	// Plateau is how long the rate takes to climb back to the limit after
	// a cut, at least; default 5s.
	Plateau time.Duration
	// PlateauAnswers stretches the plateau at low rates to the time of
	// this many answers at the limit; default 60.
	PlateauAnswers float64
	// Memory is the time constant with which the peak (the highest limit
	// seen) is forgotten; default 1m.
	Memory time.Duration
	// EstimateSpan is the shortest span over which the unthrottled answers
	// are counted; default 500ms.
	EstimateSpan time.Duration
	// Now is the clock of the rate logic and of the bucket; default
	// time.Now. (Wait sleeps on the wall clock.)
	Now func() time.Time
	// OnChange, when set, is called with the old and new rate (metrics).
	// Set it before the first request.
	OnChange func(oldRate, newRate float64)
	// OnWait, when set, is called with the time each Wait blocked. Set it
	// before the first request.
	OnWait func(time.Duration)

	once    sync.Once
	turn    chan struct{} // held by the one waiter that watches the bucket
	mu      sync.Mutex
	lim     *rate.Limiter
	changed chan struct{} // closed when the rate changes
	cur     float64
	seq     uint64 // tickets handed out
	cutSeq  uint64 // the last ticket handed out before the last cut
	ok      estimator

	limit     float64   // reference limit after the last cut; 0 before any
	estimated bool      // limit is an estimate, not a guess
	from      float64   // the rate the last cut went to
	cutAt     time.Time // of the last cut
	k         time.Duration
	grownAt   time.Time // of the last increase in the probing phase
	peak      float64   // highest estimated limit, at peakAt
	peakAt    time.Time
}

// NewAIMD returns a limiter at rate r (requests per second) with the given
// burst and the default tuning.
func NewAIMD(r float64, burst int) *AIMD {
	a := &AIMD{Max: r, Burst: burst}
	a.init()
	return a
}

func (a *AIMD) init() {
	a.once.Do(func() {
		if a.Max <= 0 {
			a.Max = 1
		}
		if a.Floor <= 0 {
			a.Floor = max(a.Max/100, 0.1)
		}
		a.Floor = min(a.Floor, a.Max)
		if a.Step <= 0 {
			a.Step = max(a.Max/50, 0.1)
		}
		if a.Beta <= 0 || a.Beta >= 1 {
			a.Beta = 0.7
		}
		if a.MaxBeta <= 0 || a.MaxBeta >= 1 {
			a.MaxBeta = 0.95
		}
		if a.Margin <= 0 || a.Margin > 1 {
			a.Margin = 0.95
		}
		if a.Plateau <= 0 {
			a.Plateau = 5 * time.Second
		}
		if a.PlateauAnswers <= 0 {
			a.PlateauAnswers = 60
		}
		if a.Memory <= 0 {
			a.Memory = time.Minute
		}
		if a.EstimateSpan <= 0 {
			a.EstimateSpan = 500 * time.Millisecond
		}
		if a.Now == nil {
			a.Now = time.Now
		}
		if a.Burst < 1 {
			a.Burst = 1
		}
		a.cur = a.Max
		a.lim = rate.NewLimiter(rate.Limit(a.Max), a.Burst)
		a.turn = make(chan struct{}, 1)
		a.changed = make(chan struct{})
	})
}

// Rate returns the current rate.
func (a *AIMD) Rate() float64 {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// Wait blocks until a request may be sent, or ctx ends, and returns the
// request's ticket for Observe. One waiter at a time watches the bucket
// (the others queue for their turn); it wakes when a token is due or the
// rate changes, so a cut slows the queue at once and a raise speeds it
// up at once (a reservation made at the old rate would not).
func (a *AIMD) Wait(ctx context.Context) (otc.Ticket, error) {
	a.init()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	start := time.Now()
	select {
	case a.turn <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-a.turn }()
	for {
		ticket, delay, changed := a.take()
		if delay == 0 {
			if a.OnWait != nil {
				if d := time.Since(start); d > 0 {
					a.OnWait(d)
				}
			}
			return ticket, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-changed:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		}
	}
}

// take takes a token if one is there and returns its ticket, or returns
// how long until one is due and the channel that is closed when the rate
// changes.
func (a *AIMD) take() (otc.Ticket, time.Duration, <-chan struct{}) {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.Now()
	if a.lim.AllowN(now, 1) {
		a.ok.send(now)
		a.seq++
		return otc.Ticket(a.seq), 0, nil
	}
	missing := 1 - a.lim.TokensAt(now)
	d := time.Duration(missing / float64(a.lim.Limit()) * float64(time.Second))
	return 0, max(d, time.Millisecond), a.changed
}

// Observe adapts the rate to the answer to the request with ticket t.
func (a *AIMD) Observe(t otc.Ticket, throttled bool) {
	a.init()
	a.mu.Lock()
	now := a.Now()
	old := a.cur
	a.ok.touch(now, a.cur)
	a.ok.add(now, throttled)
	switch {
	case throttled && uint64(t) > a.cutSeq:
		a.cut(now)
	case throttled: // the congestion event the last cut answered
	default:
		if uint64(t) > a.cutSeq {
			a.cur = a.raise(now)
		}
	}
	cur := a.cur
	if cur != old {
		a.setLimit(now)
	}
	a.mu.Unlock()
	if cur != old && a.OnChange != nil {
		a.OnChange(old, cur)
	}
}

// setLimit gives the bucket the current rate and wakes the waiter that
// watches it. Callers hold mu.
func (a *AIMD) setLimit(now time.Time) {
	a.lim.SetLimitAt(now, rate.Limit(a.cur))
	if a.limit > 0 {
		// After the first cut: the requests of 10ms, at least one. A
		// server's bucket throttles bursts; the one waiter that watches
		// the bucket needs a few tokens' slack to keep up at high rates.
		a.lim.SetBurstAt(now, max(1, int(a.cur/100)))
	}
	close(a.changed)
	a.changed = make(chan struct{})
}

// cut lowers the rate after a throttled answer. Callers hold mu.
func (a *AIMD) cut(now time.Time) {
	next := a.cur * a.Beta
	if !a.cutAt.IsZero() && now.Sub(a.cutAt) < time.Second {
		next = a.cur / 2 // throttled again right after a cut: far above the limit
	}
	ref, flood := next, false
	est, share, known := a.ok.rate(now, a.cur, a.EstimateSpan)
	if known {
		// Throttled often lately, and sending far more than got through,
		// the client floods: the limit is what got through. Otherwise it
		// was probing: the limit is where the throttling began, the rate
		// at which it sent lately (what got through over the window lags
		// behind a rate that climbs).
		sent, _ := a.ok.sendRate(now, a.cur)
		ref, flood = est, true
		if share < 0.25 || sent < 1.5*est {
			ref, flood = min(a.cur, max(sent, est)), false
		}
		next = min(max(a.Margin*ref, a.cur/2), a.cur*a.MaxBeta)
		a.peak, a.peakAt = max(a.peakNow(now), ref), now
	}
	a.cur = max(next, a.Floor)
	a.limit, a.from, a.cutAt, a.grownAt = max(ref, a.cur), a.cur, now, time.Time{}
	a.estimated = known && !flood
	switch {
	case !known:
		a.k = 0 // a guess: probe from it at once
	case a.limit < a.peakNow(now)/2:
		a.k = time.Second // far below a limit seen lately: a burst that passes
	case flood:
		a.k = time.Second // what got through while flooding: a rough limit
	default:
		a.k = max(a.Plateau, time.Duration(a.PlateauAnswers/a.limit*float64(time.Second)))
	}
	a.cutSeq = a.seq
}

// raise returns the rate after an unthrottled answer to a request sent
// after the last cut. Callers hold mu.
func (a *AIMD) raise(now time.Time) float64 {
	if a.limit == 0 {
		return min(a.cur+a.Step/max(a.cur, 1), a.Max)
	}
	t := now.Sub(a.cutAt)
	if t < a.k { // back to the limit, flattening
		x := 1 - t.Seconds()/a.k.Seconds()
		return min(max(a.cur, a.limit-(a.limit-a.from)*x*x), a.Max)
	}
	if a.grownAt.IsZero() {
		a.grownAt = a.cutAt.Add(a.k)
		a.cur = max(a.cur, a.limit)
	}
	dt := min(now.Sub(a.grownAt), time.Second).Seconds() // an idle gap is no evidence
	a.grownAt = now
	g := 1.1 // above an estimated limit: probing
	switch {
	case a.cur < a.Margin*a.peakNow(now):
		g = 2 // below a limit seen lately
	case !a.estimated:
		g = 1.25 // above a guess, or a rough limit
	}
	return min(a.cur*math.Pow(g, dt), a.Max)
}

// peakNow is the peak, forgotten with time constant Memory. Callers hold
// mu.
func (a *AIMD) peakNow(now time.Time) float64 {
	if a.peak == 0 {
		return 0
	}
	return a.peak * math.Exp(-now.Sub(a.peakAt).Seconds()/a.Memory.Seconds())
}
