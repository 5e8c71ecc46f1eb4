package otc_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// blockingPacer holds every Wait until release is closed (or ctx ends).
type blockingPacer struct {
	waiting chan struct{} // receives one value per Wait that started
	release chan struct{}
}

func (p *blockingPacer) Wait(ctx context.Context) (otc.Ticket, error) {
	p.waiting <- struct{}{}
	select {
	case <-p.release:
		return 1, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (*blockingPacer) Observe(otc.Ticket, bool) {}

// TestGate: a request whose gate closes while it waits for the pacer is
// not sent at all, and says so; one that was sent is retried whatever the
// gate says; the gate is checked after the pacer, before sending.
func TestGate(t *testing.T) {
	var posts atomic.Int32
	var throttleFirst atomic.Bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		if throttleFirst.CompareAndSwap(true, false) {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"id":"e1","status":"creating"}`))
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	p, err := otc.NewProvider(fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	pc := &blockingPacer{waiting: make(chan struct{}, 10), release: make(chan struct{})}
	c, err := p.Client(t.Context(), "", "", pc)
	if err != nil {
		t.Fatal(err)
	}
	req := &vpcep.CreateEndpointRequest{EndpointServiceID: "s", VPCID: "v"}

	// Stopped while waiting for the pacer: nothing is sent.
	gate, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.CreateEndpoint(otc.WithGate(t.Context(), gate), req)
		errc <- err
	}()
	<-pc.waiting
	stop()
	select {
	case err := <-errc:
		if !errors.Is(err, otc.ErrNotSent) || otc.IsAmbiguous(err) {
			t.Errorf("error %v, want ErrNotSent and not ambiguous", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stopped request did not return")
	}
	want(t, "requests sent after the stop", int(posts.Load()), 0)

	// Stopped before the pacer lets it through: nothing is sent either.
	close(pc.release)
	if _, _, err := c.CreateEndpoint(otc.WithGate(t.Context(), gate), req); !errors.Is(err, otc.ErrNotSent) {
		t.Errorf("closed gate: error %v, want ErrNotSent", err)
	}
	want(t, "requests", int(posts.Load()), 0)

	// Sent, throttled, then stopped: the retry is sent.
	gate2, stop2 := context.WithCancel(context.Background())
	throttleFirst.Store(true)
	pc.waiting = make(chan struct{}, 10)
	h2 := func() {
		<-pc.waiting // first attempt
		<-pc.waiting // the retry waits for the pacer
		stop2()
	}
	go h2()
	if _, _, err := c.CreateEndpoint(otc.WithGate(t.Context(), gate2), req); err != nil {
		t.Errorf("a request sent before the stop: %v, want its retry to succeed", err)
	}
	want(t, "requests", int(posts.Load()), 2)
}
