package apply

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// This file holds the policy that paces a target's requests: a token
// bucket whose rate follows the API's answers (AIMD). Every request to a
// target, retries and status polls included, takes a token first.

// AIMD is a rate limiter that adapts to throttling (additive increase,
// multiplicative decrease). It implements otc.Pacer; one is shared by every
// request to a target.
//
// On a throttled answer the rate is cut, at most once per Window (the
// throttled answers of one burst arrive together and count as one signal).
// The cut goes to Margin times the rate at which the API answered without
// throttling over the last EstimateSpan, when enough answers were seen to
// tell; that is the API's limit as this client sees it. The cut is always
// between half the current rate and MaxBeta of it, so one noisy estimate
// can neither stall a run nor leave the rate where it was. Without an
// estimate the cut is Beta, or half when the previous cut was recent and
// did not help. Every other answer raises the rate by Step per second of
// answers at the current rate. The rate stays between Floor and Max.
//
// Tuning (BenchmarkAIMD: go test ./apply -run '^$' -bench AIMD -benchtime 1x):
// cutting to what the API let through, rather than by a fixed factor,
// lands just under the limit in two or three cuts from any height and then
// keeps a sawtooth between 0.95 of the limit and a little above it. Against
// a server limit of 200/s with the client at 1000/s it reaches about 0.97
// of the limit with 2-3% of the answers throttled; fixed factors (0.85, or
// 0.5 right after a cut, one cut per 250ms) reached 0.91 with as many
// throttled. The estimate starts again after a pause in the answers, or an
// idle planning phase would read as a low limit.
type AIMD struct {
	Max   float64 // the ceiling: --rate
	Burst int     // token bucket burst: --burst; default 1
	Floor float64 // never below this; default Max/100, at least 0.1
	Step  float64 // additive increase per second at the current rate; default Max/50, at least 0.1
	// Beta is the cut without an estimate; default 0.7.
	Beta float64
	// MaxBeta bounds a cut from above: every cut lowers the rate at least
	// to MaxBeta times it; default 0.95.
	MaxBeta float64
	// Margin is the share of the estimated limit the rate is cut to;
	// default 0.95.
	Margin float64
	// Window is the shortest time between two cuts; default 100ms.
	Window time.Duration
	// EstimateSpan is how far back the unthrottled answers are counted;
	// default 500ms.
	EstimateSpan time.Duration
	// Now is the clock of the rate logic; default time.Now. (The token
	// bucket's waits use the wall clock.)
	Now func() time.Time
	// OnChange, when set, is called with the old and new rate (metrics).
	// Set it before the first request.
	OnChange func(oldRate, newRate float64)
	// OnWait, when set, is called with the time each Wait blocked. Set it
	// before the first request.
	OnWait func(time.Duration)

	once    sync.Once
	mu      sync.Mutex
	lim     *rate.Limiter
	cur     float64
	lastCut time.Time
	ok      estimator // unthrottled answers
}

// estimateMinAnswers is the number of unthrottled answers in the span
// below which no estimate is made.
const estimateMinAnswers = 8

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
		if a.Window <= 0 {
			a.Window = 100 * time.Millisecond
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
		a.ok = newEstimator(a.EstimateSpan)
	})
}

// Rate returns the current rate.
func (a *AIMD) Rate() float64 {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// Wait blocks until a request may be sent, or ctx ends.
func (a *AIMD) Wait(ctx context.Context) error {
	a.init()
	start := time.Now()
	err := a.lim.Wait(ctx)
	if a.OnWait != nil {
		if d := time.Since(start); d > 0 {
			a.OnWait(d)
		}
	}
	return err
}

// Observe adapts the rate to one answer.
func (a *AIMD) Observe(throttled bool) {
	a.init()
	a.mu.Lock()
	now := a.Now()
	old := a.cur
	a.ok.touch(now)
	if throttled {
		if !a.lastCut.IsZero() && now.Sub(a.lastCut) < a.Window {
			a.mu.Unlock()
			return
		}
		a.cur = a.cut(now)
		a.lastCut = now
	} else {
		a.ok.add(now)
		a.cur = min(a.cur+a.Step/max(a.cur, 1), a.Max)
	}
	cur := a.cur
	if cur != old {
		a.lim.SetLimit(rate.Limit(cur))
	}
	a.mu.Unlock()
	if cur != old && a.OnChange != nil {
		a.OnChange(old, cur)
	}
}

// cut returns the rate after a throttled answer. Callers hold mu.
func (a *AIMD) cut(now time.Time) float64 {
	hi, lo := a.cur*a.MaxBeta, a.cur/2
	next := a.cur * a.Beta
	if !a.lastCut.IsZero() && now.Sub(a.lastCut) < 4*a.Window {
		next = lo // throttled again right after a cut: far above the limit
	}
	if ok, known := a.ok.rate(now); known {
		next = min(max(a.Margin*ok, lo), hi)
	}
	return max(next, a.Floor)
}

// estimator counts events in a sliding span with buckets of a tenth of it.
// The span starts again after a pause in the answers (an idle client says
// nothing about the API's limit).
type estimator struct {
	width   time.Duration
	buckets [10]int
	head    int64     // index (time/width) of the newest bucket
	first   time.Time // of the first answer since the last pause
	last    time.Time // of the last answer
}

func newEstimator(span time.Duration) estimator {
	return estimator{width: max(span/10, time.Millisecond)}
}

func (e *estimator) advance(now time.Time) {
	i := now.UnixNano() / int64(e.width)
	if i <= e.head {
		return
	}
	for k := e.head + 1; k <= i && k <= e.head+int64(len(e.buckets)); k++ {
		e.buckets[k%int64(len(e.buckets))] = 0
	}
	e.head = i
}

// touch records an answer (counted or not): after a pause of two buckets
// or more the span starts again.
func (e *estimator) touch(now time.Time) {
	if e.last.IsZero() || now.Sub(e.last) >= 2*e.width {
		e.buckets = [10]int{}
		e.first = now
	}
	e.last = now
}

// add counts an event; touch must have been called for it.
func (e *estimator) add(now time.Time) {
	e.advance(now)
	e.buckets[(now.UnixNano()/int64(e.width))%int64(len(e.buckets))]++
}

// rate returns events per second over the span (from the start of the
// oldest bucket kept, or the first event if later) and whether there were
// enough to tell.
func (e *estimator) rate(now time.Time) (float64, bool) {
	if e.first.IsZero() {
		return 0, false
	}
	e.advance(now)
	n := 0
	for _, c := range e.buckets {
		n += c
	}
	span := time.Duration(len(e.buckets)-1)*e.width + time.Duration(now.UnixNano()%int64(e.width))
	if d := now.Sub(e.first); d < span {
		span = d
	}
	if n < estimateMinAnswers || span < e.width {
		return 0, false
	}
	return float64(n) / span.Seconds(), true
}
