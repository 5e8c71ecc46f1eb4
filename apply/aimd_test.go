package apply

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/internal/testkit"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/sim"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ticket takes a token without waiting (the tests' clock is fake; the
// bucket runs on it).
func ticket(t *testing.T, a *AIMD) otc.Ticket {
	t.Helper()
	tk, d, _ := a.take()
	if d != 0 {
		t.Fatalf("no token: next in %v", d)
	}
	return tk
}

// answers makes n unthrottled answers spread evenly over the next d, to
// requests sent then, and after each, throttled more throttled answers to
// requests sent before the last cut (the estimate counts them; they cut
// nothing).
func answers(t *testing.T, a *AIMD, c *testkit.Clock, n int, d time.Duration, throttled int) {
	t.Helper()
	for range n {
		a.mu.Lock()
		a.seq++ // sent now, whatever the bucket says (it is not under test)
		a.ok.send(c.Now())
		tk := otc.Ticket(a.seq)
		a.mu.Unlock()
		a.Observe(tk, false)
		for range throttled {
			a.mu.Lock()
			a.ok.send(c.Now())
			a.mu.Unlock()
			a.Observe(0, true)
		}
		c.Advance(d / time.Duration(n))
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

func TestAIMDDefaults(t *testing.T) {
	a := NewAIMD(100, 5)
	if a.Rate() != 100 || a.Floor != 1 || a.Step != 2 || a.Beta != 0.7 || a.MaxBeta != 0.95 || a.Margin != 0.95 ||
		a.Plateau != 5*time.Second || a.PlateauAnswers != 60 || a.Memory != time.Minute ||
		a.EstimateSpan != 500*time.Millisecond || a.Burst != 5 {
		t.Errorf("NewAIMD(100, 5) = %+v", a)
	}
	small := NewAIMD(2, 0)
	if small.Floor != 0.1 || small.Step != 0.1 || small.Burst != 1 {
		t.Errorf("NewAIMD(2, 0): floor %v step %v burst %v, want 0.1, 0.1, 1", small.Floor, small.Step, small.Burst)
	}
}

// TestAIMDOneCutPerEvent: the throttled answers to requests sent before a
// cut are the event the cut answered, however late they come; a request
// sent after the cut and throttled is a new event.
func TestAIMDOneCutPerEvent(t *testing.T) {
	c := testkit.NewClock(epoch)
	a := &AIMD{Max: 100, Burst: 50, Now: c.Now}
	var inflight []otc.Ticket
	for range 16 {
		inflight = append(inflight, ticket(t, a))
	}
	for i, tk := range inflight {
		c.Advance(100 * time.Millisecond) // answers spread over 1.6s
		a.Observe(tk, true)
		if got := a.Rate(); !near(got, 70) {
			t.Fatalf("rate after throttled answer %d of one event = %v, want 70 (one cut, Beta)", i+1, got)
		}
	}
	c.Advance(2 * time.Second)
	a.Observe(ticket(t, a), true)
	if got := a.Rate(); !near(got, 49) {
		t.Errorf("rate after a request sent after the cut was throttled = %v, want 49", got)
	}
	// Throttled again within a second of a cut: far above the limit.
	c.Advance(500 * time.Millisecond)
	a.Observe(ticket(t, a), true)
	if got := a.Rate(); !near(got, 24.5) {
		t.Errorf("rate after a throttle 0.5s after a cut = %v, want 24.5 (half)", got)
	}
}

// TestAIMDCutToEstimate: flooding (throttled in half its answers), the
// client cuts to 0.95 of the rate the API answered without throttling, at
// 1 request/s as at 200, never below half its rate in one cut.
func TestAIMDCutToEstimate(t *testing.T) {
	for _, tt := range []struct {
		max, served float64
		want        float64
	}{
		{max: 1.5, served: 1, want: 0.95},
		{max: 8, served: 5, want: 4.75},
		{max: 30, served: 20, want: 19},
		{max: 300, served: 200, want: 190},
		{max: 1000, served: 200, want: 500},
	} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			c := testkit.NewClock(epoch)
			a := &AIMD{Max: tt.max, Now: c.Now}
			answers(t, a, c, int(tt.served*10), 10*time.Second, 1)
			a.Observe(ticket(t, a), true)
			if got := a.Rate(); math.Abs(got-tt.want) > 0.05*tt.want {
				t.Errorf("rate after a throttle, %v answered per second = %v, want %v", tt.served, got, tt.want)
			}
		})
	}
}

// TestAIMDCutWhileProbing: throttled seldom, the client was probing: it
// cuts to 0.95 of the rate at which it sent (never below half its rate in
// one cut).
func TestAIMDCutWhileProbing(t *testing.T) {
	for _, tt := range []struct {
		max, sent, want float64
	}{
		{max: 5, sent: 5, want: 4.75},
		{max: 30, sent: 20, want: 19},
		{max: 40, sent: 20, want: 20},
		{max: 2, sent: 2, want: 1.9},
	} {
		c := testkit.NewClock(epoch)
		a := &AIMD{Max: tt.max, Now: c.Now}
		answers(t, a, c, int(tt.sent*10), 10*time.Second, 0)
		a.Observe(ticket(t, a), true)
		if got := a.Rate(); math.Abs(got-tt.want) > 0.06*tt.want {
			t.Errorf("rate %v sending %v/s, after a throttle = %v, want %v", tt.max, tt.sent, got, tt.want)
		}
	}
}

func TestAIMDEstimateAfterPause(t *testing.T) {
	c := testkit.NewClock(epoch)
	a := &AIMD{Max: 100, Now: c.Now}
	answers(t, a, c, 3, 300*time.Millisecond, 3) // planning: a few answers
	c.Advance(5 * time.Second)                   // idle
	a.Observe(ticket(t, a), true)
	if got := a.Rate(); !near(got, 70) {
		t.Errorf("rate after a pause = %v, want 70 (the old answers are no estimate)", got)
	}
}

// TestAIMDClimbBack: after a cut the rate climbs back to the limit within
// the plateau, flattening, then probes above it by 1.1 per second.
func TestAIMDClimbBack(t *testing.T) {
	c := testkit.NewClock(epoch)
	a := &AIMD{Max: 30, Now: c.Now}
	answers(t, a, c, 200, 10*time.Second, 0) // 20/s
	a.Observe(ticket(t, a), true)
	from := a.Rate()
	a.mu.Lock()
	lim := a.limit
	a.mu.Unlock()
	if math.Abs(from-19) > 1 || !near(from, 0.95*lim) {
		t.Fatalf("cut to %v with limit %v, want about 19, 0.95 of the limit (the 20/s sent)", from, lim)
	}
	answers(t, a, c, 50, 2500*time.Millisecond, 0) // half the plateau of 5s
	if got, want := a.Rate(), lim-(lim-from)*0.25; math.Abs(got-want) > 0.05 {
		t.Errorf("rate half-way through the plateau = %v, want %v (0.75 of the way)", got, want)
	}
	answers(t, a, c, 50, 2500*time.Millisecond, 0)
	if got := a.Rate(); math.Abs(got-lim) > 0.1 {
		t.Errorf("rate at the end of the plateau = %v, want the limit %v", got, lim)
	}
	answers(t, a, c, 70, 3*time.Second, 0)
	if got, want := a.Rate(), lim*math.Pow(1.1, 3); math.Abs(got-want) > 0.5 {
		t.Errorf("rate 3s after the plateau = %v, want about %v (1.1 per second)", got, want)
	}
	// Answers to requests sent before a cut do not raise the rate.
	a.Observe(ticket(t, a), true)
	cut := a.Rate()
	a.Observe(1, false)
	if got := a.Rate(); got != cut {
		t.Errorf("an answer from before the cut raised the rate from %v to %v", cut, got)
	}
}

func TestAIMDFloor(t *testing.T) {
	c := testkit.NewClock(epoch)
	a := &AIMD{Max: 10, Floor: 2, Now: c.Now}
	for range 20 {
		c.Advance(2 * time.Second)
		a.Observe(ticket(t, a), true)
	}
	if got := a.Rate(); got != 2 {
		t.Errorf("rate after 20 cuts = %v, want the floor 2", got)
	}
}

func TestAIMDOnChange(t *testing.T) {
	c := testkit.NewClock(epoch)
	var changes [][2]float64
	a := &AIMD{Max: 10, Now: c.Now, OnChange: func(o, n float64) { changes = append(changes, [2]float64{o, n}) }}
	a.Observe(ticket(t, a), true)
	if len(changes) != 1 || changes[0] != [2]float64{10, 7} {
		t.Errorf("OnChange calls = %v, want [[10 7]]", changes)
	}
}

func TestAIMDWait(t *testing.T) {
	var waited time.Duration
	var mu sync.Mutex
	a := NewAIMD(1000, 1)
	a.OnWait = func(d time.Duration) { mu.Lock(); waited += d; mu.Unlock() }
	ctx := context.Background()
	var last otc.Ticket
	for range 5 {
		tk, err := a.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tk <= last {
			t.Errorf("ticket %d after %d, want increasing", tk, last)
		}
		last = tk
	}
	mu.Lock()
	defer mu.Unlock()
	if waited <= 0 {
		t.Error("OnWait saw no wait for 5 requests at burst 1")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewAIMD(0.001, 1).Wait(cctx); err == nil {
		t.Error("Wait with a cancelled context = nil")
	}
}

// TestAIMDWaitFollowsRaise: a request waiting at a low rate goes as soon
// as the rate rises, not when a token would have come at the old rate.
func TestAIMDWaitFollowsRaise(t *testing.T) {
	a := NewAIMD(1000, 1)
	a.mu.Lock()
	a.cur = 0.01 // a token every 100s
	a.setLimit(time.Now())
	a.mu.Unlock()
	if _, err := a.Wait(t.Context()); err != nil { // the burst
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := a.Wait(t.Context()); done <- err }()
	select {
	case <-done:
		t.Fatal("Wait returned at once at 0.01/s")
	case <-time.After(50 * time.Millisecond):
	}
	a.mu.Lock()
	a.cur = 1000
	a.setLimit(time.Now())
	a.mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait still blocked 10s after the rate rose to 1000/s")
	}
}

// BenchmarkAIMD applies 2,000 creates to a simulator with 50ms latency
// and a server rate limit, and reports how close the adaptive client gets
// to the limit without being throttled:
//
//	go test ./apply -run '^$' -bench AIMD -benchtime 1x
//
// ratio is the achieved rate (answers that were not throttled, per second
// of the run) divided by the lower of the server's limit and the client's
// rate; throttled_share is the share of all answers that were throttled.
// The client is configured as the CLI configures it (retry waits 500ms to
// 30s, Retry-After honoured), with --concurrency 32: at 50ms per answer
// 200 requests/s keep 10 workers busy (Little's law), and a throttled
// answer carrying Retry-After: 1 keeps its worker asleep for a second, so
// 16 workers would leave the limit unused after each burst of throttles.
func BenchmarkAIMD(b *testing.B) {
	cases := []struct {
		name              string
		server, client    float64
		wantRatio, wantTh float64
	}{
		{"server200_client1000", 200, 1000, 0.9, 0.05},
		{"server2000_client200", 2000, 200, 0.95, 0.05},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var ratio, share, creates float64
			for i := 0; i < b.N; i++ {
				r, s, c := aimdFigures(b, tc.server, tc.client)
				ratio, share, creates = ratio+r, share+s, creates+c
			}
			n := float64(b.N)
			b.ReportMetric(ratio/n, "ratio")
			b.ReportMetric(share/n, "throttled_share")
			b.ReportMetric(creates/n, "creates/s")
			b.ReportMetric(0, "ns/op")
			if ratio/n < tc.wantRatio || share/n >= tc.wantTh {
				b.Logf("below target: ratio %.3f (want >= %.2f), throttled share %.3f (want < %.2f)", ratio/n, tc.wantRatio, share/n, tc.wantTh)
			}
		})
	}
}

func aimdFigures(b *testing.B, serverRPS, clientRPS float64) (ratio, throttledShare, createsPerSec float64) {
	b.Helper()
	const n = 2000
	pacer := &countingPacer{}
	e := newSimEnv(b, sim.Options{Latency: 50 * time.Millisecond, ThrottleRPS: serverRPS, Quota: n},
		clientOpts{rate: clientRPS, burst: 5, maxRetries: 8, retryMin: 500 * time.Millisecond, retryMax: 30 * time.Second,
			pacer: func(a *AIMD) otc.Pacer { pacer.Pacer = a; return pacer }})
	p := e.makePlan(b, endpoints("bench", n, 20), plan.Options{})
	pacer.mu.Lock()
	pacer.ok, pacer.throttled = 0, 0
	pacer.mu.Unlock()
	// Start from a full rate and an idle server, as a run does.
	time.Sleep(100 * time.Millisecond)
	b.ResetTimer()
	start := time.Now()
	rep := New(e.clients(), Options{Concurrency: 32}).Run(context.Background(), p)
	d := time.Since(start)
	b.StopTimer()
	if rep.Summary.Succeeded != n {
		b.Fatalf("summary = %+v, failures %v", rep.Summary, failures(rep))
	}
	ok, throttled := pacer.counts()
	limit := math.Min(serverRPS, clientRPS)
	return float64(ok) / d.Seconds() / limit, float64(throttled) / float64(ok+throttled), n / d.Seconds()
}
