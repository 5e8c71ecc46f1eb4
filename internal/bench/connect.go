package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/reconcile"
	"github.com/vpcepctl/vpcepctl/sim"
)

// unreachableRows: a plan against an IAM whose host does not resolve, and
// one whose port nobody listens on, ends within 5s with the reason (the
// command exits 1 with it).
func unreachableRows() []row {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	var rows []row
	for _, c := range []struct{ name, url string }{
		{"IAM host does not resolve", "https://iam.no-such-host.invalid"},
		{"nothing listens on IAM's port", closed},
	} {
		creds := simCreds(c.url)
		sess, err := reconcile.Open(reconcile.Config{Credentials: creds, Rate: 10, Burst: 5, MaxRetries: 8, RequestTimeout: 30 * time.Second})
		if err != nil {
			panic(err)
		}
		start := time.Now()
		_, err = sess.Plan(context.Background(), load("version: 1\nset: s\nendpoints: []\n"), plan.Options{})
		d := time.Since(start)
		var he *otc.HostError
		rows = append(rows, row{
			scenario: c.name,
			figure:   fmt.Sprintf("failed after %.2fs of 5s: %s", d.Seconds(), firstLine(err)),
			goal:     "<= 5s, with the reason",
			ok:       d <= 5*time.Second && errors.As(err, &he),
		})
	}
	return rows
}

// projectsRow: a plan over 200 projects whose IAM answers after 100ms
// spends at most a tenth of the 20s that authenticating them one after
// another takes.
func projectsRow() row {
	const n = 200
	s := sim.New(sim.Options{Projects: n, IAMLatency: 100 * time.Millisecond})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	sess, err := reconcile.Open(reconcile.Config{Credentials: simCreds(srv.URL), Rate: 10, Burst: 5, MaxRetries: 8, RequestTimeout: 30 * time.Second})
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\nversion: 1\nset: s\nproject_id: %s\nendpoints: []\n", sim.ExtraProjectID(i))
	}
	ms := load(b.String())
	start := time.Now()
	_, err = sess.Plan(context.Background(), ms, plan.Options{})
	d := time.Since(start)
	sequential := float64(n+1) * 0.1 // and the credentials' default project
	ratio := d.Seconds() / sequential
	return row{
		scenario: "plan over 200 projects, IAM latency 100ms",
		figure:   fmt.Sprintf("plan/sequential IAM %.3f (%.2fs of %.1fs)", ratio, d.Seconds(), sequential),
		goal:     "<= 0.1",
		ok:       err == nil && ratio <= 0.1,
	}
}

func firstLine(err error) string {
	if err == nil {
		return "no error"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
