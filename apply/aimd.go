package apply

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AIMD is a rate limiter that adapts to throttling: every throttled answer
// cuts the rate multiplicatively (at most once per Window), every other
// answer raises it additively, never above Max nor below Floor. It
// implements otc.Pacer; one is shared by every request to a target,
// retries and status polls included.
type AIMD struct {
	Max    float64       // the ceiling: --rate
	Floor  float64       // never below this; default Max/100, at least 0.1
	Beta   float64       // multiplicative decrease; default 0.5 right after another cut, else 0.85
	Step   float64       // additive increase per second of successes at the current rate; default Max/50
	Window time.Duration // at most one cut per window; default 250ms
	Now    func() time.Time
	// OnChange, when set, is called with the old and new rate (metrics).
	OnChange func(oldRate, newRate float64)
	// OnWait, when set, is called with the time each Wait blocked.
	OnWait func(time.Duration)

	once    sync.Once
	mu      sync.Mutex
	lim     *rate.Limiter
	cur     float64
	lastCut time.Time
}

// NewAIMD returns a limiter at rate r (requests per second) with the given
// burst.
func NewAIMD(r float64, burst int) *AIMD {
	a := &AIMD{Max: r}
	a.init(burst)
	return a
}

func (a *AIMD) init(burst int) {
	a.once.Do(func() {
		if a.Floor <= 0 {
			a.Floor = max(a.Max/100, 0.1)
		}
		if a.Step <= 0 {
			a.Step = max(a.Max/50, 0.1)
		}
		if a.Window <= 0 {
			a.Window = 250 * time.Millisecond
		}
		if a.Now == nil {
			a.Now = time.Now
		}
		if burst < 1 {
			burst = 1
		}
		a.cur = a.Max
		a.lim = rate.NewLimiter(rate.Limit(a.Max), burst)
	})
}

// Rate returns the current rate.
func (a *AIMD) Rate() float64 {
	a.init(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// Wait blocks until a request may be sent.
func (a *AIMD) Wait(ctx context.Context) error {
	a.init(1)
	start := a.Now()
	err := a.lim.Wait(ctx)
	if a.OnWait != nil {
		if d := a.Now().Sub(start); d > 0 {
			a.OnWait(d)
		}
	}
	return err
}

// Observe adapts the rate to one answer.
func (a *AIMD) Observe(throttled bool) {
	a.init(1)
	a.mu.Lock()
	old := a.cur
	now := a.Now()
	if throttled {
		if now.Sub(a.lastCut) < a.Window {
			a.mu.Unlock()
			return
		}
		beta := a.Beta
		if beta <= 0 || beta >= 1 {
			beta = 0.85
			if !a.lastCut.IsZero() && now.Sub(a.lastCut) < 4*a.Window {
				beta = 0.5 // still throttled right after a cut: far above the limit
			}
		}
		a.cur = max(a.cur*beta, a.Floor)
		a.lastCut = now
	} else {
		// Step per second at the current rate: Step/cur per answer.
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
