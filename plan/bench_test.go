package plan

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// benchInputs builds n desired and n observed endpoints in one target:
// of the desired, 85% exist unchanged, 5% differ in a user tag and 10%
// are missing (create); 10% of the observed are no longer declared
// (delete with --prune).
func benchInputs(n int) []Input {
	const pid = "0123456789abcdef0123456789abcdef"
	svc := &vpcep.Service{ID: "2da0fe8f-5cb7-4d93-bb35-dc05334da1be", ServiceName: "com.t-systems.otc.eu-de.svc", ServiceType: vpcep.ServiceInterface}
	t := true
	in := Input{
		Target:   Target{Region: "eu-de", ProjectID: pid},
		Services: map[string]*vpcep.Service{svc.ID: svc},
		Desired:  make([]*manifests.Endpoint, 0, n),
		Observed: make([]vpcep.Endpoint, 0, n),
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		set := fmt.Sprintf("set%02d", i%50)
		name := fmt.Sprintf("ep-%06d", i)
		vpc := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i/100)
		subnet := fmt.Sprintf("%08x-1111-4000-8000-000000000000", i/10)
		d := &manifests.Endpoint{
			Set: set, Name: name, EndpointServiceID: svc.ID, VPCID: vpc, SubnetID: subnet,
			EnableDNS: &t, Whitelist: []string{"10.0.0.0/8"}, Tags: map[string]string{"team": set, "env": "prod"},
		}
		in.Desired = append(in.Desired, d)
		switch i % 20 {
		case 0, 1: // missing: create (observed slot used by an undeclared one)
			in.Observed = append(in.Observed, vpcep.Endpoint{
				ID: fmt.Sprintf("%08x-2222-4000-8000-000000000000", i), ServiceType: vpcep.ServiceInterface, Status: vpcep.StatusAccepted,
				EndpointServiceID: svc.ID, VPCID: vpc, SubnetID: subnet, IP: "10.1.0.1", EnableDNS: true,
				Whitelist: []string{"10.0.0.0/8"}, CreatedAt: vpcep.Time{Time: base.Add(time.Duration(i) * time.Second)},
				Tags: []vpcep.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: set},
					{Key: manifests.TagSet, Value: set}, {Key: manifests.TagName, Value: "gone-" + name}},
			})
			continue
		}
		env := "prod"
		if i%20 == 2 {
			env = "dev" // tag
		}
		in.Observed = append(in.Observed, vpcep.Endpoint{
			ID: fmt.Sprintf("%08x-3333-4000-8000-000000000000", i), ServiceType: vpcep.ServiceInterface, Status: vpcep.StatusAccepted,
			EndpointServiceID: svc.ID, VPCID: vpc, SubnetID: subnet, IP: "10.1.0.2", EnableDNS: true,
			Whitelist: []string{"10.0.0.0/8"}, CreatedAt: vpcep.Time{Time: base.Add(time.Duration(i) * time.Second)},
			Tags: []vpcep.Tag{{Key: "env", Value: env}, {Key: "team", Value: set},
				{Key: manifests.TagSet, Value: set}, {Key: manifests.TagName, Value: name}},
		})
	}
	return []Input{in}
}

// BenchmarkDiff100k diffs 100,000 desired against 100,000 observed
// endpoints (85% noop, 5% tag, 10% create, 10% delete).
func BenchmarkDiff100k(b *testing.B) {
	const n = 100_000
	inputs := benchInputs(n)
	opts := Options{Prune: true}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var p *Plan
	for b.Loop() {
		var err error
		if p, err = Diff(inputs, opts); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/endpoint")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/n, "B/endpoint")
	s := p.Summary
	if s.Create != n/10 || s.Tag != n/20 || s.Delete != n/10 || s.Noop != n*85/100 {
		b.Fatalf("summary %+v, want the 85/5/10/10 mix", s)
	}
}
