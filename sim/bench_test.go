package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// BenchmarkList100k lists a project of 100,000 endpoints the way vpcepctl
// does (limit 1000, created_at ascending, every page) through Handler()
// over HTTP. "read" measures the simulator and HTTP; "decode" adds decoding
// every page with the otc wire types, as the client does.
func BenchmarkList100k(b *testing.B) {
	const n, page = 100_000, 1000
	c := newClock()
	s := New(Options{Now: c.Now, Quota: n})
	for i := range n {
		s.Put(ProjectID, vpcep.Endpoint{
			EndpointServiceID: ServiceInterfaceID, VPCID: vpcA, SubnetID: subnetA,
			Tags: []vpcep.Tag{{Key: "vpcepctl-set", Value: "bench"}, {Key: "vpcepctl-name", Value: fmt.Sprintf("ep-%06d", i)}},
		})
		if i%10 == 0 {
			c.Advance(time.Second)
		}
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"password":%q,"domain":{"name":%q}}}},"scope":{"project":{"id":%q}}}}`,
		Username, Password, DomainName, ProjectID)
	resp, err := http.Post(srv.URL+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	token := resp.Header.Get("X-Subject-Token")
	client := srv.Client()

	for _, decode := range []bool{false, true} {
		name := "read"
		if decode {
			name = "decode"
		}
		b.Run(name, func(b *testing.B) {
			requests, bytes := 0, int64(0)
			for b.Loop() {
				seen := 0
				for off := 0; ; off += page {
					req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/%s/vpc-endpoints?limit=%d&offset=%d&sort_key=created_at&sort_dir=asc", srv.URL, ProjectID, page, off), nil)
					req.Header.Set("X-Auth-Token", token)
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					var l vpcep.ListEndpointsResponse
					if decode {
						err = json.NewDecoder(resp.Body).Decode(&l)
					} else {
						var raw []byte
						raw, err = io.ReadAll(resp.Body)
						bytes += int64(len(raw))
						l.TotalCount = n
						l.Endpoints = make([]vpcep.Endpoint, strings.Count(string(raw), `"marker_id"`))
					}
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 {
						b.Fatalf("page at %d: %d %v", off, resp.StatusCode, err)
					}
					requests++
					seen += len(l.Endpoints)
					if len(l.Endpoints) < page || seen >= l.TotalCount {
						break
					}
				}
				if seen != n {
					b.Fatalf("listed %d endpoints, want %d", seen, n)
				}
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			if bytes > 0 {
				b.ReportMetric(float64(bytes)/float64(b.N)/1e6, "MB/op")
			}
		})
	}
}
