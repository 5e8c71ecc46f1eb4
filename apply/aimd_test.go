package apply

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/internal/testkit"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/sim"
)

// answers makes n unthrottled answers spread evenly over the next d.
func answers(a *AIMD, c *testkit.Clock, n int, d time.Duration) {
	for i := 0; i < n; i++ {
		a.Observe(false)
		c.Advance(d / time.Duration(n))
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestAIMDDefaults(t *testing.T) {
	a := NewAIMD(100, 5)
	if a.Rate() != 100 || a.Floor != 1 || a.Step != 2 || a.Beta != 0.7 || a.MaxBeta != 0.95 || a.Margin != 0.95 ||
		a.Window != 100*time.Millisecond || a.EstimateSpan != 500*time.Millisecond || a.Burst != 5 {
		t.Errorf("NewAIMD(100, 5) = %+v", a)
	}
	small := NewAIMD(2, 0)
	if small.Floor != 0.1 || small.Step != 0.1 || small.Burst != 1 {
		t.Errorf("NewAIMD(2, 0): floor %v step %v burst %v, want 0.1, 0.1, 1", small.Floor, small.Step, small.Burst)
	}
}

func TestAIMDCutWithoutEstimate(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := &AIMD{Max: 100, Now: c.Now}
	a.Observe(true)
	if got := a.Rate(); !near(got, 70) {
		t.Fatalf("rate after a throttle with no estimate = %v, want 70 (Beta)", got)
	}
	// A second throttle within the window is the same signal.
	c.Advance(50 * time.Millisecond)
	a.Observe(true)
	if got := a.Rate(); !near(got, 70) {
		t.Errorf("rate after a second throttle within the window = %v, want 70", got)
	}
	// Throttled again soon after the window: halve.
	c.Advance(60 * time.Millisecond)
	a.Observe(true)
	if got := a.Rate(); !near(got, 35) {
		t.Errorf("rate after a throttle soon after a cut = %v, want 35", got)
	}
	// Much later: Beta again.
	c.Advance(time.Second)
	a.Observe(true)
	if got := a.Rate(); !near(got, 35*0.7) {
		t.Errorf("rate after a throttle long after the last cut = %v, want %v", got, 35*0.7)
	}
}

func TestAIMDCutToEstimate(t *testing.T) {
	tests := []struct {
		name     string
		answers  int // unthrottled answers in the 500ms before the throttle
		want     float64
		wantNote string
	}{
		{"estimate between the bounds", 70, 0.95 * 140, "Margin x 140/s"},
		{"estimate above the rate: at least MaxBeta", 100, 0.95 * 150, "MaxBeta x rate"},
		{"estimate far below: at most halve", 20, 75, "half the rate"},
		{"too few answers: Beta", estimateMinAnswers - 1, 0.7 * 150, "no estimate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			a := &AIMD{Max: 150, Step: 1e-9, Now: c.Now}
			answers(a, c, tt.answers, 500*time.Millisecond)
			a.Observe(true)
			if got := a.Rate(); math.Abs(got-tt.want) > 0.01 {
				t.Errorf("rate = %v, want %v (%s)", got, tt.want, tt.wantNote)
			}
		})
	}
}

func TestAIMDEstimateForgets(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := &AIMD{Max: 1000, Step: 1e-9, Now: c.Now}
	answers(a, c, 500, 500*time.Millisecond) // 1000/s
	answers(a, c, 100, 500*time.Millisecond) // then 200/s
	a.Observe(true)
	// The span holds the recent answers only: 200/s, so the cut halves.
	// (Had it counted all 600 answers, it would cut to 570.)
	if got := a.Rate(); !near(got, 500) {
		t.Errorf("rate = %v, want 500 (the old answers forgotten, at most halved)", got)
	}
}

func TestAIMDEstimateAfterPause(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := &AIMD{Max: 300, Step: 1e-9, Now: c.Now}
	answers(a, c, 150, 500*time.Millisecond) // 300/s
	c.Advance(time.Second)                   // idle
	answers(a, c, 24, 120*time.Millisecond)  // 200/s
	a.Observe(true)
	// The span starts after the pause: 200/s, cut to 190. (Counting the
	// idle time, the estimate would be 53/s and the cut would halve.)
	if got := a.Rate(); math.Abs(got-190) > 0.01 {
		t.Errorf("rate = %v, want 190", got)
	}
}

func TestAIMDIncrease(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := &AIMD{Max: 100, Step: 10, Now: c.Now}
	a.Observe(true) // 70
	if !near(a.Rate(), 70) {
		t.Fatalf("rate = %v", a.Rate())
	}
	// 70 answers (one second at 70/s) raise the rate by about Step.
	answers(a, c, 70, time.Second)
	if got := a.Rate(); got < 79 || got > 80 {
		t.Errorf("rate after a second of answers = %v, want about 80", got)
	}
	// Never above Max.
	answers(a, c, 10000, 10*time.Second)
	if got := a.Rate(); got != 100 {
		t.Errorf("rate after many answers = %v, want Max 100", got)
	}
}

func TestAIMDFloor(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := &AIMD{Max: 100, Floor: 5, Now: c.Now}
	for i := 0; i < 50; i++ {
		a.Observe(true)
		c.Advance(time.Second)
	}
	if got := a.Rate(); got != 5 {
		t.Errorf("rate after many throttles = %v, want the floor 5", got)
	}
	d := &AIMD{Max: 0.05, Now: c.Now}
	d.Observe(true)
	if got := d.Rate(); got != 0.05 {
		t.Errorf("rate of a limiter whose max is below the default floor = %v, want 0.05", got)
	}
}

func TestAIMDOnChange(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var got [][2]float64
	a := &AIMD{Max: 10, Now: c.Now, OnChange: func(o, n float64) { got = append(got, [2]float64{o, n}) }}
	a.Observe(false) // at Max: no change
	a.Observe(true)
	a.Observe(false)
	if len(got) != 2 || got[0] != [2]float64{10, 7} || !near(got[1][1], 7+0.2/7) {
		t.Errorf("OnChange calls = %v, want 10->7 then 7->%v", got, 7+0.2/7)
	}
}

func TestAIMDWait(t *testing.T) {
	var waited time.Duration
	var mu sync.Mutex
	a := NewAIMD(1000, 1)
	a.OnWait = func(d time.Duration) { mu.Lock(); waited += d; mu.Unlock() }
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := a.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if waited <= 0 {
		t.Error("OnWait saw no wait for 5 requests at burst 1")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := NewAIMD(0.001, 1).Wait(cctx); err == nil {
		t.Error("Wait with a cancelled context = nil")
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
