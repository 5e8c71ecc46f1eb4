package apply

import "time"

// estimator counts the unthrottled answers of the last ten seconds in
// slots of 50ms, and tells the rate at which they came over a window
// long enough for the current rate. It starts again after a pause in the
// answers: an idle client says nothing about the API's limit.
type estimator struct {
	slots [estimateSlots]int // unthrottled answers
	thr   [estimateSlots]int // throttled answers
	sent  [estimateSlots]int // requests sent (tickets)
	head  int64              // index (time/slotWidth) of the newest slot
	first time.Time          // of the first answer since the last pause
	last  time.Time          // of the last answer
}

const (
	slotWidth     = 50 * time.Millisecond
	estimateSlots = 400 // twenty seconds
	// estimateAnswers is how many answers at the current rate the window
	// spans at least, and estimateMinAnswers how many must have come for
	// an estimate.
	estimateAnswers    = 20
	estimateMinAnswers = 4
)

func slotOf(t time.Time) int64 { return t.UnixNano() / int64(slotWidth) }

func (e *estimator) advance(now time.Time) {
	i := slotOf(now)
	if i <= e.head {
		return
	}
	for k := e.head + 1; k <= i && k <= e.head+estimateSlots; k++ {
		e.slots[k%estimateSlots] = 0
		e.thr[k%estimateSlots] = 0
		e.sent[k%estimateSlots] = 0
	}
	e.head = i
}

// touch records an answer (counted or not) at rate cur: after a pause of
// more than a second, or of the time four answers take at cur, the count
// starts again.
func (e *estimator) touch(now time.Time, cur float64) {
	pause := max(time.Second, time.Duration(4/cur*float64(time.Second)))
	if e.last.IsZero() || now.Sub(e.last) > pause {
		e.slots = [estimateSlots]int{}
		e.thr = [estimateSlots]int{}
		e.sent = [estimateSlots]int{}
		e.head = slotOf(now)
		e.first = now
	}
	e.last = now
}

// add counts an answer; touch must have been called for it.
func (e *estimator) add(now time.Time, throttled bool) {
	e.advance(now)
	if throttled {
		e.thr[slotOf(now)%estimateSlots]++
	} else {
		e.slots[slotOf(now)%estimateSlots]++
	}
}

// send counts a request sent. It does not start the count again after a
// pause (answers do).
func (e *estimator) send(now time.Time) {
	e.advance(now)
	e.sent[slotOf(now)%estimateSlots]++
}

// sendRate returns the requests sent per second over the last second, or
// the time ten requests take at cur when longer (since the first answer
// after a pause), and whether any were sent.
func (e *estimator) sendRate(now time.Time, cur float64) (float64, bool) {
	e.advance(now)
	w := min(max(time.Second, time.Duration(10/cur*float64(time.Second))), (estimateSlots-1)*slotWidth)
	if !e.first.IsZero() && now.Sub(e.first) < w {
		w = max(now.Sub(e.first), slotWidth)
	}
	n := 0
	for k := int64(0); k <= int64(w/slotWidth); k++ {
		n += e.sent[(e.head-k)%estimateSlots]
	}
	return float64(n) / w.Seconds(), n > 0
}

// rate returns the unthrottled answers per second over the window (span,
// or the time estimateAnswers answers take at cur when longer, at most
// twenty seconds; from the first answer after a pause if that is later),
// the share of the window's answers that were throttled, and whether
// enough came to tell.
func (e *estimator) rate(now time.Time, cur float64, span time.Duration) (perSecond, throttled float64, ok bool) {
	if e.first.IsZero() {
		return 0, 0, false
	}
	e.advance(now)
	w := max(span, time.Duration(estimateAnswers/cur*float64(time.Second)))
	w = min(w, (estimateSlots-1)*slotWidth)
	if d := now.Sub(e.first); d < w {
		w = d
	}
	n, th := 0, 0
	for k := int64(0); k <= int64(w/slotWidth); k++ {
		n += e.slots[(e.head-k)%estimateSlots]
		th += e.thr[(e.head-k)%estimateSlots]
	}
	if n < estimateMinAnswers || w < min(span, time.Duration(estimateAnswers/cur*float64(time.Second)))/4 {
		return 0, 0, false
	}
	return float64(n) / max(w, slotWidth).Seconds(), float64(th) / float64(n+th), true
}
