package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/sim"
)

// latency is the simulator's answer time in the rate scenarios.
const latency = 20 * time.Millisecond

// rateRows: a server that allows S requests/s, a client (the AIMD limiter
// and the HTTP client as vpcepctl configures them) that asks 2 and 10
// times that, with workers enough to keep it busy.
// With only, just the scenarios whose name contains it. The light ones
// (up to 50/s) run side by side, with extra.
func rateRows(scale float64, only string, extra ...func() row) []row {
	var low, mid, heavy []func() row
	for _, s := range []float64{2, 5, 10, 20, 50, 200, 2000} {
		for _, x := range []float64{2, 10} {
			if only != "" && only != "rate" && !strings.Contains(rateName(s, x), only) {
				continue
			}
			f := func() row { return rateRow(s, x, scale) }
			switch {
			case s <= 50:
				low = append(low, f) // light: side by side
			case s <= 200:
				mid = append(mid, f)
			default:
				heavy = append(heavy, f) // alone
			}
		}
	}
	rows := append(parallel(append(low, extra...)...), parallel(mid...)...)
	for _, f := range heavy {
		rows = append(rows, f())
	}
	return rows
}

func rateName(server, x float64) string {
	return fmt.Sprintf("server %v/s, client asks %vx", server, x)
}

func rateRow(server, x, scale float64) row {
	// Long enough that the start (a burst into an unknown limit, some ten
	// throttled answers) weighs little: 600 answers at least, a minute at
	// least below 200/s.
	secs := max(60, 600/server)
	if server >= 200 {
		secs = 30
	}
	d := time.Duration(secs * scale * float64(time.Second))
	f := runRate(server, server*x, d, nil)
	want := 0.90
	if server >= 20 {
		want = 0.95
	}
	return row{
		scenario: rateName(server, x),
		figure:   fmt.Sprintf("achieved/S %.3f, throttled %.1f%%", f.achieved, 100*f.share),
		goal:     fmt.Sprintf(">= %.2f, <= 5%%", want),
		ok:       f.achieved >= want && f.share <= 0.05,
	}
}

// rateFigures are what runRate measured.
type rateFigures struct {
	achieved float64         // unthrottled answers per second after the first sixth, over the server's limit
	share    float64         // of all answers, throttled
	okAt     []time.Duration // when each unthrottled answer came
	minRate  float64         // the limiter's lowest rate
}

// runRate runs workers that read the quota for d against a simulator that
// allows server requests/s, through a client at rate client; during
// (it calls it with the simulator).
func runRate(server, client float64, d time.Duration, during func(*sim.Sim)) rateFigures {
	s := sim.New(sim.Options{ThrottleRPS: server, Latency: latency, Seed: 1})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	prov, err := otc.NewProvider(otc.Options{Credentials: simCreds(srv.URL), MaxRetries: 8})
	if err != nil {
		panic(err)
	}
	pc := &countingPacer{AIMD: apply.NewAIMD(client, 5), start: time.Now(), minRate: client}
	c, err := prov.Client(ctx, "", "", pc)
	if err != nil {
		panic(err)
	}
	if during != nil {
		go during(s)
	}
	var wg sync.WaitGroup
	for range 16 + int(8*server*latency.Seconds()) {
		wg.Go(func() {
			for ctx.Err() == nil {
				_, _ = c.EndpointQuota(ctx)
			}
		})
	}
	wg.Wait()
	return pc.figures(d, server)
}

// countingPacer counts the answers the limiter observes.
type countingPacer struct {
	*apply.AIMD
	start     time.Time
	mu        sync.Mutex
	ok        []time.Duration
	throttled int
	minRate   float64
}

func (p *countingPacer) Observe(t otc.Ticket, throttled bool) {
	p.AIMD.Observe(t, throttled)
	p.mu.Lock()
	defer p.mu.Unlock()
	if throttled {
		p.throttled++
	} else {
		p.ok = append(p.ok, time.Since(p.start))
	}
	p.minRate = min(p.minRate, p.Rate())
}

func (p *countingPacer) figures(d time.Duration, server float64) rateFigures {
	p.mu.Lock()
	defer p.mu.Unlock()
	warm, after := d/6, 0
	for _, at := range p.ok {
		if at >= warm {
			after++
		}
	}
	return rateFigures{
		achieved: float64(after) / (d - warm).Seconds() / server,
		share:    float64(p.throttled) / float64(max(len(p.ok)+p.throttled, 1)),
		okAt:     p.ok,
		minRate:  p.minRate,
	}
}

// burstRow: ten seconds in the middle of a run in which the server
// allows a tenth of its limit; how long after they end the unthrottled
// answers come at 0.9 of the limit again (over one second).
func burstRow(scale float64) row {
	const server = 20
	d := time.Duration(60 * max(scale, 0.75) * float64(time.Second))
	burstAt, burstFor := d/3, 10*time.Second
	f := runRate(server, 2*server, d, func(s *sim.Sim) {
		time.Sleep(burstAt)
		o := s.Options()
		o.ThrottleRPS = server / 10
		s.SetOptions(o)
		time.Sleep(burstFor)
		o.ThrottleRPS = server
		s.SetOptions(o)
	})
	end := burstAt + burstFor
	back := time.Duration(-1)
	for i, at := range f.okAt {
		if at < end+time.Second {
			continue
		}
		n := 0
		for j := i; j >= 0 && f.okAt[j] > at-time.Second; j-- {
			n++
		}
		if n >= int(0.9*server) {
			back = at - end
			break
		}
	}
	return row{
		scenario: "10s of throttling to a tenth, server 20/s, client 40/s",
		figure:   fmt.Sprintf("back at 0.9 of the limit after %.1fs", back.Seconds()),
		goal:     "<= 10s",
		ok:       back >= 0 && back <= 10*time.Second,
	}
}

func simCreds(url string) otc.Credentials {
	return otc.Credentials{AuthURL: url + "/v3", Username: sim.Username, Password: sim.Password,
		UserDomainName: sim.DomainName, ProjectID: sim.ProjectID, Region: sim.Region}
}
