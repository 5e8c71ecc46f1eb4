package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// BenchmarkPlan100k is a whole "vpcepctl plan" of 100,000 desired against
// 100,000 existing endpoints (99,000 unchanged, 1,000 to create, 1,000 to
// delete with --prune) against the in-process simulator. It reports the
// API calls the plan makes, by operation: about 100 list pages, one
// service lookup and one quota read, not one call per endpoint.
//
//	go test ./cmd/vpcepctl -run '^$' -bench Plan100k -benchtime 1x
func BenchmarkPlan100k(b *testing.B) {
	const n = 100_000
	s := sim.New(sim.Options{Quota: 2 * n, PlainShapes: true})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		name := fmt.Sprintf("ep-%06d", i)
		if i >= n-1000 {
			name = fmt.Sprintf("gone-%06d", i) // no longer declared: delete
		}
		s.Put(sim.ProjectID, vpcep.Endpoint{
			ID:                fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
			Status:            vpcep.StatusAccepted,
			ServiceType:       vpcep.ServiceInterface,
			EndpointServiceID: sim.ServiceInterfaceID,
			VPCID:             fmt.Sprintf("%08x-0000-4000-8000-000000000001", i%500),
			SubnetID:          fmt.Sprintf("%08x-0000-4000-8000-000000000002", i),
			Tags:              []vpcep.Tag{{Key: "vpcepctl-set", Value: "bulk"}, {Key: "vpcepctl-name", Value: name}},
			CreatedAt:         vpcep.Time{Time: base.Add(time.Duration(i) * time.Second)},
		})
	}
	var m strings.Builder
	m.WriteString("version: 1\nset: bulk\ndefaults:\n  endpoint_service_id: " + sim.ServiceInterfaceID + "\nendpoints:\n")
	for i := range n {
		fmt.Fprintf(&m, "  - name: ep-%06d\n    vpc_id: %08x-0000-4000-8000-000000000001\n    subnet_id: %08x-0000-4000-8000-000000000002\n", i, i%500, i)
	}
	file := filepath.Join(b.TempDir(), "bulk.yaml")
	if err := os.WriteFile(file, []byte(m.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	env := envMap(sim.Env(srv.URL))
	b.ResetTimer()
	for range b.N {
		s.ResetRequests()
		var out, errs strings.Builder
		code := run(context.Background(), []string{"plan", "-f", file, "--prune", "--log-level", "warn"}, strings.NewReader(""), &out, &errs, env)
		if code != 0 {
			b.Fatalf("plan: exit %d\n%s", code, errs.String())
		}
		if want := "Plan: 1000 to create, 0 to tag, 0 to replace, 0 to adopt, 0 to approve, 1000 to delete, 0 conflicts, 99000 unchanged."; !strings.Contains(out.String(), want) {
			b.Fatalf("plan does not end with %q:\n%s", want, tail(out.String()))
		}
	}
	b.StopTimer()
	total := 0
	for _, op := range []string{"list", "service", "quota", "token", "get", "create", "delete", "tags", "tag_filter"} {
		c := s.Requests(op, "")
		total += c
		if c > 0 {
			b.ReportMetric(float64(c), op+"_calls/op")
		}
	}
	b.ReportMetric(float64(total), "api_calls/op")
}

func tail(s string) string {
	if len(s) > 500 {
		return s[len(s)-500:]
	}
	return s
}
