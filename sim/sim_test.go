package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

func tags(n int) []vpcep.Tag {
	var ts []vpcep.Tag
	for i := range n {
		ts = append(ts, vpcep.Tag{Key: fmt.Sprintf("k%d", i), Value: "v"})
	}
	return ts
}

// TestContract drives the documented error cases: status code and error_code.
func TestContract(t *testing.T) {
	e := newEnv(t, Options{PlainShapes: true, AcceptAfter: time.Hour})
	other := e.login(ProjectID2)
	ep := e.create(createReq(vpcA, subnetA))
	gw := func(mod func(*vpcep.CreateEndpointRequest)) vpcep.CreateEndpointRequest {
		r := vpcep.CreateEndpointRequest{EndpointServiceID: ServiceOBSID, VPCID: vpcA}
		mod(&r)
		return r
	}
	iface := func(mod func(*vpcep.CreateEndpointRequest)) vpcep.CreateEndpointRequest {
		r := createReq(vpcA, subnetA)
		mod(&r)
		return r
	}
	yes := true
	missing := "4189d3c2-8882-4871-a3c2-d380272eed83"
	cases := []struct {
		name       string
		token      string // "-" none, "" the env's token
		method     string
		path       string
		body       any
		wantStatus int
		wantCode   string
	}{
		{"list limit negative", "", "GET", pp("/vpc-endpoints?limit=-1"), nil, 400, "EndPoint.0006"},
		{"list limit over 1000", "", "GET", pp("/vpc-endpoints?limit=1001"), nil, 400, "EndPoint.0006"},
		{"list limit not a number", "", "GET", pp("/vpc-endpoints?limit=ten"), nil, 400, "EndPoint.0006"},
		{"list offset negative", "", "GET", pp("/vpc-endpoints?offset=-1"), nil, 400, "EndPoint.0010"},
		{"list sort_key unknown", "", "GET", pp("/vpc-endpoints?sort_key=name"), nil, 400, "EndPoint.0017"},
		{"list sort_dir unknown", "", "GET", pp("/vpc-endpoints?sort_dir=up"), nil, 400, "EndPoint.0018"},
		{"list vpc_id not a UUID", "", "GET", pp("/vpc-endpoints?vpc_id=vpc-1"), nil, 400, "EndPoint.0020"},
		{"list limit 1000 ok", "", "GET", pp("/vpc-endpoints?limit=1000&offset=0&sort_key=created_at&sort_dir=asc"), nil, 200, ""},
		{"get unknown id", "", "GET", pp("/vpc-endpoints/" + missing), nil, 404, "EndPoint.2006"},
		{"delete unknown id", "", "DELETE", pp("/vpc-endpoints/" + missing), nil, 404, "EndPoint.2006"},
		{"delete while creating", "", "DELETE", pp("/vpc-endpoints/" + ep.ID), nil, 400, "EndPoint.2019"},
		{"create empty body", "", "POST", pp("/vpc-endpoints"), "", 400, "EndPoint.1004"},
		{"create malformed body", "", "POST", pp("/vpc-endpoints"), "{", 400, "EndPoint.1004"},
		{"create enable_dns not boolean", "", "POST", pp("/vpc-endpoints"), `{"endpoint_service_id":"` + ServiceInterfaceID + `","vpc_id":"` + vpcA + `","subnet_id":"` + subnetA + `","enable_dns":"yes"}`, 400, "EndPoint.1004"},
		{"create without service", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.EndpointServiceID = "" }), 400, "EndPoint.2029"},
		{"create unknown service", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.EndpointServiceID = missing }), 400, "EndPoint.2003"},
		{"create without vpc", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.VPCID = "" }), 400, "EndPoint.2011"},
		{"create vpc not a UUID", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.VPCID = "vpc-1" }), 400, "EndPoint.0020"},
		{"interface without subnet", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.SubnetID = "" }), 400, "EndPoint.2010"},
		{"interface subnet not a UUID", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.SubnetID = "subnet" }), 400, "EndPoint.0023"},
		{"interface bad port_ip", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.PortIP = "10.0.0.300" }), 400, "EndPoint.2041"},
		{"interface with routetables", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.RouteTables = []string{missing} }), 400, "EndPoint.0002"},
		{"interface bad whitelist", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Whitelist = []string{"10.0.0.0/33"} }), 400, "EndPoint.2044"},
		{"gateway with subnet", "", "POST", pp("/vpc-endpoints"), gw(func(r *vpcep.CreateEndpointRequest) { r.SubnetID = subnetA }), 400, "EndPoint.0002"},
		{"gateway with port_ip", "", "POST", pp("/vpc-endpoints"), gw(func(r *vpcep.CreateEndpointRequest) { r.PortIP = "10.0.0.5" }), 400, "EndPoint.0002"},
		{"gateway with enable_whitelist", "", "POST", pp("/vpc-endpoints"), gw(func(r *vpcep.CreateEndpointRequest) { r.EnableWhitelist = &yes }), 400, "EndPoint.0002"},
		{"gateway bad route table", "", "POST", pp("/vpc-endpoints"), gw(func(r *vpcep.CreateEndpointRequest) { r.RouteTables = []string{"rtb-1"} }), 400, "EndPoint.1019"},
		{"gateway bad policy", "", "POST", pp("/vpc-endpoints"), gw(func(r *vpcep.CreateEndpointRequest) {
			r.PolicyStatement = []vpcep.PolicyStatement{{Effect: "Maybe", Action: []string{"*"}, Resource: []string{"*"}}}
		}), 400, "EndPoint.2048"},
		{"description with angle bracket", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Description = "<b>" }), 400, "EndPoint.0002"},
		{"unknown specification", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.SpecificationName = "large" }), 400, "EndPoint.2009"},
		{"21 tags", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Tags = tags(21) }), 400, "EndPoint.3069"},
		{"20 tags ok", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Tags = tags(20) }), 200, ""},
		{"tag empty key", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Tags = []vpcep.Tag{{Key: "", Value: "v"}} }), 400, "EndPoint.3066"},
		{"tag key of 37", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Tags = []vpcep.Tag{{Key: strings.Repeat("k", 37)}} }), 400, "EndPoint.3072"},
		{"tag value of 44", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Tags = []vpcep.Tag{{Key: "k", Value: strings.Repeat("v", 44)}} }), 400, "EndPoint.3073"},
		{"tag value with dot", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Tags = []vpcep.Tag{{Key: "k", Value: "a.b"}} }), 400, "EndPoint.3068"},
		{"tag key duplicated", "", "POST", pp("/vpc-endpoints"), iface(func(r *vpcep.CreateEndpointRequest) { r.Tags = []vpcep.Tag{{Key: "k"}, {Key: "k"}} }), 400, "EndPoint.3067"},
		{"no credentials", "-", "GET", pp("/vpc-endpoints"), nil, 401, "EndPoint.0003"},
		{"unknown token", "MIIbogus", "GET", pp("/vpc-endpoints"), nil, 401, "EndPoint.0003"},
		{"token of another project", other, "GET", pp("/vpc-endpoints"), nil, 403, "EndPoint.0004"},
		{"project id malformed", "", "GET", "/v1/my-project/vpc-endpoints", nil, 400, "EndPoint.0014"},
		{"unknown route", "", "GET", pp("/vpc-endpoint"), nil, 404, "APIGW.0101"},
		{"wrong method", "", "PUT", pp("/vpc-endpoints"), nil, 404, "APIGW.0101"},
		{"tags bad action", "", "POST", pp("/endpoint/" + ep.ID + "/tags/action"), `{"action":"update","tags":[{"key":"a","value":"b"}]}`, 400, "EndPoint.0007"},
		{"tags empty", "", "POST", pp("/endpoint/" + ep.ID + "/tags/action"), `{"action":"create","tags":[]}`, 400, "EndPoint.3066"},
		{"tags bad value", "", "POST", pp("/endpoint/" + ep.ID + "/tags/action"), `{"action":"create","tags":[{"key":"a","value":"b c"}]}`, 400, "EndPoint.3068"},
		{"tags unknown endpoint", "", "POST", pp("/endpoint/" + missing + "/tags/action"), `{"action":"create","tags":[{"key":"a","value":"b"}]}`, 404, "EndPoint.2006"},
		{"tags unknown resource type", "", "POST", pp("/router/" + ep.ID + "/tags/action"), `{"action":"create","tags":[{"key":"a","value":"b"}]}`, 400, "EndPoint.3070"},
		{"tag filter bad action", "", "POST", pp("/endpoint/resource_instances/action"), `{"action":"list"}`, 400, "EndPoint.0007"},
		{"tag filter bad limit", "", "POST", pp("/endpoint/resource_instances/action"), `{"action":"filter","limit":"0"}`, 400, "EndPoint.0006"},
		{"tag filter bad offset", "", "POST", pp("/endpoint/resource_instances/action"), `{"action":"filter","offset":-1}`, 400, "EndPoint.0010"},
		{"describe without parameter", "", "GET", pp("/vpc-endpoint-services/describe"), nil, 400, "EndPoint.2002"},
		{"describe by undocumented name parameter", "", "GET", pp("/vpc-endpoint-services/describe?name=" + ServiceOBSName), nil, 400, "EndPoint.2002"},
		{"describe unknown service", "", "GET", pp("/vpc-endpoint-services/describe?id=" + missing), nil, 404, "EndPoint.0005"},
		{"public services bad limit", "", "GET", pp("/vpc-endpoint-services/public?limit=5000"), nil, 400, "EndPoint.0006"},
		{"quota bad type", "", "GET", pp("/quotas?type=vpc"), nil, 400, "EndPoint.0002"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := e.token
			switch c.token {
			case "-":
				tok = ""
			case "":
			default:
				tok = c.token
			}
			r := e.do(tok, c.method, c.path, c.body)
			if r.status != c.wantStatus || r.errorCode() != c.wantCode {
				t.Errorf("%s %s = %d %q, want %d %q\n%s", c.method, c.path, r.status, r.errorCode(), c.wantStatus, c.wantCode, r.body)
			}
			if r.status >= 400 {
				var eb map[string]any
				if err := json.Unmarshal(r.body, &eb); err != nil || eb["error_msg"] == "" || eb["error_msg"] == nil {
					t.Errorf("error body %s lacks error_msg", r.body)
				}
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id")
			}
		})
	}
}

func TestCreateResponse(t *testing.T) {
	e := newEnv(t, Options{PlainShapes: true, AcceptAfter: time.Minute})
	yes := true
	req := createReq(vpcA, subnetA, vpcep.Tag{Key: "vpcepctl-set", Value: "payments"})
	req.EnableDNS = &yes
	r := e.call("POST", pp("/vpc-endpoints"), req)
	if r.status != 200 {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	var raw map[string]any
	json.Unmarshal(r.body, &raw)
	for _, k := range []string{"endpoint_pool_id", "whitelist", "enable_whitelist", "active_status", "specification_name", "enable_status"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("create response lacks %s: %s", k, r.body)
		}
	}
	if _, ok := raw["ip"]; ok {
		t.Errorf("create response has ip while creating: %s", r.body)
	}
	var ep vpcep.Endpoint
	if err := json.Unmarshal(r.body, &ep); err != nil {
		t.Fatal(err)
	}
	if ep.Status != vpcep.StatusCreating || ep.MarkerID <= 1<<31 || ep.ProjectID != ProjectID ||
		ep.EndpointServiceName != ServiceInterfaceName || ep.ServiceType != vpcep.ServiceInterface ||
		!bool(ep.EnableDNS) || len(ep.DNSNames) != 1 || ep.CreatedAt.IsZero() || !ep.CreatedAt.Equal(ep.UpdatedAt.Time) {
		t.Errorf("create response = %+v", ep)
	}
	if v, _ := ep.TagValue("vpcepctl-set"); v != "payments" {
		t.Errorf("tags = %v", ep.Tags)
	}
	if !strings.Contains(string(r.body), `"created_at":"2025-05-06T07:08:09Z"`) {
		t.Errorf("created_at not in the documented format: %s", r.body)
	}

	g := e.create(vpcep.CreateEndpointRequest{EndpointServiceID: ServiceOBSID, VPCID: vpcB, EnableDNS: &yes})
	if g.ServiceType != vpcep.ServiceGateway || len(g.RouteTables) != 1 || len(g.PolicyStatement) != 1 || g.SubnetID != "" || g.EnableDNS {
		t.Errorf("gateway create = %+v", g)
	}
	again := e.call("POST", pp("/vpc-endpoints"), vpcep.CreateEndpointRequest{EndpointServiceID: ServiceOBSID, VPCID: vpcB})
	if again.status != 400 || again.errorCode() != "EndPoint.2039" {
		t.Errorf("second gateway on the same route table = %d %s", again.status, again.body)
	}
	withIP := createReq(vpcA, subnetB)
	withIP.PortIP = "10.1.2.3"
	if p := e.create(withIP); p.ID == "" {
		t.Fatal("no id")
	}
	if r := e.call("POST", pp("/vpc-endpoints"), withIP); r.status != 400 || r.errorCode() != "EndPoint.2042" {
		t.Errorf("port_ip in use = %d %s", r.status, r.body)
	}
}

func TestAsyncStatus(t *testing.T) {
	e := newEnv(t, Options{AcceptAfter: time.Minute})
	a := e.create(createReq(vpcA, subnetA))
	p := e.create(vpcep.CreateEndpointRequest{EndpointServiceID: ServiceApprovalID, VPCID: vpcA, SubnetID: subnetA})

	e.clock.Advance(59 * time.Second)
	if got, _ := e.get(a.ID); got.Status != vpcep.StatusCreating || got.IP != "" {
		t.Errorf("after 59s: %s ip %q, want creating without ip", got.Status, got.IP)
	}
	e.clock.Advance(time.Second)
	got, _ := e.get(a.ID)
	if got.Status != vpcep.StatusAccepted || got.IP == "" || !got.UpdatedAt.After(got.CreatedAt.Time) {
		t.Errorf("after 60s: %+v, want accepted with ip and later updated_at", got)
	}
	if got, _ := e.get(p.ID); got.Status != vpcep.StatusPendingAcceptance {
		t.Errorf("approval service: %s, want pendingAcceptance", got.Status)
	}
	if err := e.sim.SetStatus(ProjectID, p.ID, vpcep.StatusAccepted); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.get(p.ID); got.Status != vpcep.StatusAccepted {
		t.Errorf("after approval: %s", got.Status)
	}

	if r := e.call("DELETE", pp("/vpc-endpoints/"+a.ID), nil); r.status != 200 && r.status != 204 || len(r.body) != 0 {
		t.Fatalf("delete = %d %q", r.status, r.body)
	}
	if got, _ := e.get(a.ID); got.Status != vpcep.StatusDeleting {
		t.Errorf("after delete: %s, want deleting", got.Status)
	}
	if r := e.call("DELETE", pp("/vpc-endpoints/"+a.ID), nil); r.status != 400 || r.errorCode() != "EndPoint.2018" {
		t.Errorf("second delete = %d %s", r.status, r.body)
	}
	if l := e.list(""); l.TotalCount != 2 {
		t.Errorf("total while deleting = %d, want 2", l.TotalCount)
	}
	e.clock.Advance(time.Minute)
	if _, r := e.get(a.ID); r.status != 404 || r.errorCode() != "EndPoint.2006" {
		t.Errorf("after deletion: %d %s, want 404 EndPoint.2006", r.status, r.body)
	}
	if l := e.list(""); l.TotalCount != 1 || l.Endpoints[0].ID != p.ID {
		t.Errorf("list after deletion = %+v", l)
	}
}

// TestAcceptAtOnce: with AcceptAfter 0 the create answer still says
// creating; the next read sees the settled status.
func TestAcceptAtOnce(t *testing.T) {
	e := newEnv(t, Options{})
	ep := e.create(createReq(vpcA, subnetA))
	if ep.Status != vpcep.StatusCreating {
		t.Errorf("create = %s, want creating", ep.Status)
	}
	if got, _ := e.get(ep.ID); got.Status != vpcep.StatusAccepted {
		t.Errorf("get = %s, want accepted", got.Status)
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t, Options{Seed: 3})
	const n = 2500
	for i := range n {
		vpc := vpcA
		if i%5 == 0 {
			vpc = vpcB
		}
		svc := ServiceInterfaceID
		if i%7 == 0 {
			svc = ServiceDNSID
		}
		e.sim.Put(ProjectID, vpcep.Endpoint{EndpointServiceID: svc, VPCID: vpc, SubnetID: subnetA})
		if i%3 == 0 { // several endpoints share a created_at
			e.clock.Advance(time.Second)
		}
	}
	want := e.sim.Endpoints(ProjectID)
	if len(want) != n {
		t.Fatalf("Endpoints = %d, want %d", len(want), n)
	}
	var got []string
	for off := 0; off < n; off += 1000 {
		l := e.list(fmt.Sprintf("limit=1000&offset=%d&sort_key=created_at&sort_dir=asc", off))
		if l.TotalCount != n {
			t.Errorf("offset %d: total_count = %d, want %d", off, l.TotalCount, n)
		}
		for _, ep := range l.Endpoints {
			got = append(got, ep.ID)
		}
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i].ID {
			t.Fatalf("asc paging differs from Endpoints at %d", i)
		}
	}
	if l := e.list(""); len(l.Endpoints) != 10 || l.Endpoints[0].ID != want[n-1].ID {
		t.Errorf("default page: %d endpoints, first %s, want 10 newest first", len(l.Endpoints), l.Endpoints[0].ID)
	}
	if l := e.list("limit=0"); len(l.Endpoints) != 0 || l.TotalCount != n {
		t.Errorf("limit=0: %d endpoints, total %d", len(l.Endpoints), l.TotalCount)
	}
	if l := e.list("offset=5000"); len(l.Endpoints) != 0 || l.TotalCount != n {
		t.Errorf("offset past the end: %d endpoints, total %d", len(l.Endpoints), l.TotalCount)
	}
	if l := e.list("vpc_id=" + vpcB + "&limit=1000"); l.TotalCount != n/5 || len(l.Endpoints) != n/5 {
		t.Errorf("vpc filter: total %d, page %d, want %d", l.TotalCount, len(l.Endpoints), n/5)
	}
	dns := 0
	for i := range n {
		if i%7 == 0 {
			dns++
		}
	}
	if l := e.list("endpoint_service_name=OTC.EU-DE.dn&limit=1"); l.TotalCount != dns {
		t.Errorf("fuzzy service name filter: total %d, want %d", l.TotalCount, dns)
	}
	if l := e.list("id=" + want[42].ID); l.TotalCount != 1 || l.Endpoints[0].ID != want[42].ID {
		t.Errorf("id filter = %+v", l)
	}
	// Touch one endpoint: it sorts last by updated_at.
	e.clock.Advance(time.Hour)
	if r := e.call("POST", pp("/endpoint/"+want[0].ID+"/tags/action"), `{"action":"create","tags":[{"key":"a","value":"b"}]}`); r.status != 204 {
		t.Fatalf("tag = %d %s", r.status, r.body)
	}
	if l := e.list("sort_key=updated_at&limit=1"); l.Endpoints[0].ID != want[0].ID {
		t.Errorf("updated_at desc: first %s, want %s", l.Endpoints[0].ID, want[0].ID)
	}
}

func TestQuota(t *testing.T) {
	e := newEnv(t, Options{Quota: 3})
	var ids []string
	for range 3 {
		ids = append(ids, e.create(createReq(vpcA, subnetA)).ID)
	}
	r := e.call("POST", pp("/vpc-endpoints"), createReq(vpcA, subnetA))
	if r.status != 400 || r.errorCode() != "Endpoint.1018" {
		t.Errorf("over quota = %d %s, want 400 Endpoint.1018", r.status, r.body)
	}
	var q struct {
		Quotas struct{ Resources []vpcep.Quota } `json:"quotas"`
	}
	qr := e.call("GET", pp("/quotas?type=endpoint"), nil)
	if err := json.Unmarshal(qr.body, &q); err != nil || len(q.Quotas.Resources) != 1 ||
		q.Quotas.Resources[0] != (vpcep.Quota{Type: "endpoint", Used: 3, Quota: 3}) {
		t.Errorf("quota = %s", qr.body)
	}
	if qr := e.call("GET", pp("/quotas"), nil); !strings.Contains(string(qr.body), `"endpoint_service"`) {
		t.Errorf("quota without type = %s", qr.body)
	}
	e.clock.Advance(time.Millisecond) // settle
	e.call("DELETE", pp("/vpc-endpoints/"+ids[0]), nil)
	e.clock.Advance(time.Millisecond) // gone
	e.create(createReq(vpcA, subnetA))
	e.sim.SetOptions(Options{Now: e.clock.Now}) // default quota 50
	if r := e.call("POST", pp("/vpc-endpoints"), createReq(vpcA, subnetA)); r.status != 200 {
		t.Errorf("after raising the quota: %d %s", r.status, r.body)
	}
}

func TestThrottle(t *testing.T) {
	e := newEnv(t, Options{ThrottleRPS: 1, Seed: 7})
	shapes := map[string]int{}
	for range 40 {
		r := e.call("GET", pp("/vpc-endpoints"), nil)
		switch {
		case r.status == 200:
			shapes["ok"]++
		case r.status == 429:
			shapes["429"]++
			if r.header.Get("Retry-After") != "1" {
				t.Errorf("429 without Retry-After: %v", r.header)
			}
		case r.status == 400 && r.errorCode() == "EndPoint.0022":
			shapes["400"]++
		default:
			t.Errorf("unexpected %d %s", r.status, r.body)
		}
	}
	if shapes["ok"] < 1 || shapes["429"] == 0 || shapes["400"] == 0 {
		t.Errorf("answers = %v, want some of each shape", shapes)
	}
	if n := e.sim.Requests("list", "GET"); n != 40 {
		t.Errorf("Requests(list) = %d, want 40", n)
	}
	m := scrape(t, e)
	if !strings.Contains(m, fmt.Sprintf("vpcepctl_sim_throttled_total %d", shapes["429"]+shapes["400"])) {
		t.Errorf("throttled metric missing or wrong:\n%s", m)
	}
	// The other project has its own bucket.
	if r := e.do(e.login(ProjectID2), "GET", "/v1/"+ProjectID2+"/vpc-endpoints", nil); r.status != 200 {
		t.Errorf("other project throttled: %d", r.status)
	}
}

func TestLostResponses(t *testing.T) {
	e := newEnv(t, Options{LostRate: 1, Seed: 11, AcceptAfter: time.Minute})
	dropped, timedOut := 0, 0
	for i := range 12 {
		body, _ := json.Marshal(createReq(vpcA, subnetA, vpcep.Tag{Key: "n", Value: fmt.Sprint(i)}))
		req, _ := http.NewRequest("POST", e.srv.URL+pp("/vpc-endpoints"), bytes.NewReader(body))
		req.Header.Set("X-Auth-Token", e.token)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			dropped++
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 504 || !strings.Contains(string(b), "EndPoint.0013") {
			t.Errorf("lost create answered %d %s", resp.StatusCode, b)
		}
		timedOut++
	}
	if dropped == 0 || timedOut == 0 {
		t.Errorf("dropped %d, 504 %d: want both shapes", dropped, timedOut)
	}
	eps := e.sim.Endpoints(ProjectID)
	if len(eps) != 12 {
		t.Fatalf("committed creates = %d, want 12 although no client saw an answer", len(eps))
	}
	e.clock.Advance(time.Minute)
	req, _ := http.NewRequest("DELETE", e.srv.URL+pp("/vpc-endpoints/"+eps[0].ID), nil)
	req.Header.Set("X-Auth-Token", e.token)
	if resp, err := e.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 504 {
			t.Errorf("lost delete answered %d", resp.StatusCode)
		}
	}
	if got := e.sim.Endpoints(ProjectID)[0]; got.ID != eps[0].ID || got.Status != vpcep.StatusDeleting {
		t.Errorf("lost delete not committed: %s %s", got.ID, got.Status)
	}
	// Reads are never lost.
	if r := e.call("GET", pp("/vpc-endpoints"), nil); r.status != 200 {
		t.Errorf("list with LostRate 1 = %d", r.status)
	}
	if m := scrape(t, e); !strings.Contains(m, "vpcepctl_sim_lost_responses_total 13") {
		t.Errorf("lost metric:\n%s", m)
	}
}

func TestFailRate(t *testing.T) {
	e := newEnv(t, Options{FailRate: 1})
	for _, c := range []struct{ method, path string }{
		{"POST", pp("/vpc-endpoints")}, {"GET", pp("/vpc-endpoints")}, {"GET", pp("/quotas")},
	} {
		r := e.call(c.method, c.path, createReq(vpcA, subnetA))
		if r.status != 500 || r.errorCode() != "EndPoint.0001" {
			t.Errorf("%s %s = %d %s, want 500 EndPoint.0001", c.method, c.path, r.status, r.body)
		}
	}
	if n := len(e.sim.Endpoints(ProjectID)); n != 0 {
		t.Errorf("failed create had an effect: %d endpoints", n)
	}
}

func TestFailedRate(t *testing.T) {
	e := newEnv(t, Options{FailedRate: 1, AcceptAfter: time.Second})
	ep := e.create(createReq(vpcA, subnetA))
	if ep.Status != vpcep.StatusCreating {
		t.Errorf("create says %s, want creating", ep.Status)
	}
	e.clock.Advance(time.Second)
	got, _ := e.get(ep.ID)
	if got.Status != vpcep.StatusFailed || len(got.Error) != 1 || !strings.HasPrefix(got.Error[0].ErrorCode, "EndPoint.") || got.Error[0].ErrorMessage == "" {
		t.Errorf("failed endpoint = %+v", got)
	}
	if r := e.call("DELETE", pp("/vpc-endpoints/"+ep.ID), nil); r.status/100 != 2 {
		t.Errorf("delete failed endpoint = %d %s", r.status, r.body)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t, Options{TokenTTL: time.Hour})
	post := func(body string, query string) (*http.Response, []byte) {
		resp, err := http.Post(e.srv.URL+"/v3/auth/tokens"+query, "application/json;charset=utf8", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	auth := func(password, scope string) string {
		return fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"password":%q,"domain":{"name":%q}}}},"scope":%s}}`,
			Username, password, DomainName, scope)
	}

	resp, b := post(auth(Password, `{"project":{"name":"`+ProjectName2+`","domain":{"name":"`+DomainName+`"}}}`), "")
	if resp.StatusCode != 201 || resp.Header.Get("X-Subject-Token") == "" {
		t.Fatalf("token by project name = %d %s", resp.StatusCode, b)
	}
	var tb struct {
		Token struct {
			ExpiresAt string `json:"expires_at"`
			Project   struct{ ID, Name string }
			Catalog   []struct {
				Type      string
				Endpoints []struct{ Interface, Region, URL string }
			}
		}
	}
	if err := json.Unmarshal(b, &tb); err != nil {
		t.Fatal(err)
	}
	if tb.Token.Project.ID != ProjectID2 || tb.Token.Project.Name != ProjectName2 {
		t.Errorf("project = %+v", tb.Token.Project)
	}
	vpcep := ""
	for _, c := range tb.Token.Catalog {
		if c.Type == "vpcep" && len(c.Endpoints) == 1 && c.Endpoints[0].Region == Region && c.Endpoints[0].Interface == "public" {
			vpcep = c.Endpoints[0].URL
		}
	}
	if vpcep != e.srv.URL+"/v1/"+ProjectID2 {
		t.Errorf("vpcep catalog url = %q, want %q", vpcep, e.srv.URL+"/v1/"+ProjectID2)
	}
	if exp, err := time.Parse(time.RFC3339Nano, tb.Token.ExpiresAt); err != nil || !exp.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("expires_at = %q", tb.Token.ExpiresAt)
	}
	if _, b := post(auth(Password, `{"project":{"id":"`+ProjectID+`"}}`), "?nocatalog=true"); strings.Contains(string(b), "catalog") {
		t.Errorf("nocatalog ignored: %s", b)
	}

	resp, b = post(auth("wrong", `{"project":{"id":"`+ProjectID+`"}}`), "")
	if resp.StatusCode != 401 || !strings.Contains(string(b), `"code":401`) || resp.Header.Get("X-Subject-Token") != "" {
		t.Errorf("wrong password = %d %s", resp.StatusCode, b)
	}
	if resp, b := post(auth(Password, `{"project":{"id":"00000000000000000000000000000000"}}`), ""); resp.StatusCode != 401 {
		t.Errorf("unknown project = %d %s", resp.StatusCode, b)
	}
	if resp, b := post(`{"auth":`, ""); resp.StatusCode != 400 {
		t.Errorf("malformed = %d %s", resp.StatusCode, b)
	}
	resp, _ = post(auth(Password, `{"domain":{"name":"`+DomainName+`"}}`), "")
	if r := e.do(resp.Header.Get("X-Subject-Token"), "GET", pp("/vpc-endpoints"), nil); r.status != 403 || r.errorCode() != "EndPoint.0004" {
		t.Errorf("domain token on VPCEP = %d %s", r.status, r.body)
	}

	e.clock.Advance(59 * time.Minute)
	if r := e.call("GET", pp("/vpc-endpoints"), nil); r.status != 200 {
		t.Errorf("token before expiry = %d", r.status)
	}
	e.clock.Advance(time.Minute)
	if r := e.call("GET", pp("/vpc-endpoints"), nil); r.status != 401 || r.errorCode() != "EndPoint.0003" {
		t.Errorf("expired token = %d %s, want 401 EndPoint.0003", r.status, r.body)
	}
	if n := e.sim.Requests("token", "POST"); n != 7 {
		t.Errorf("Requests(token) = %d, want 7", n)
	}
}

// TestSignatureVectors checks the canonical form against the published
// vectors of the SDK-HMAC-SHA256 signer (key "SecretKey", fixed date).
func TestSignatureVectors(t *testing.T) {
	for _, c := range []struct {
		method, url, body, want string
	}{
		{"GET", "https://example.huaweicloud.com/path?limit=1", "", "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"},
		{"POST", "https://example.huaweicloud.com/path?key=value", "{\"Name\":\"test\",\"Id\":1}\n", "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"},
	} {
		req, _ := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
		req.Header.Set("X-Sdk-Date", "20060102T150405Z")
		got := fmt.Sprintf("%x", computeSignature("SecretKey", "20060102T150405Z", canonicalRequest(req, []string{"x-sdk-date"}, []byte(c.body))))
		if got != c.want {
			t.Errorf("%s %s: signature %s, want %s", c.method, c.url, got, c.want)
		}
	}
	if got, want := signEscape("一 (&=?!#%.*)~"), "%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29~"; got != want {
		t.Errorf("signEscape = %s, want %s", got, want)
	}
}

func TestAKSK(t *testing.T) {
	e := newEnv(t, Options{})
	send := func(method, path string, body []byte, sk string, at time.Time, tamper func(*http.Request)) result {
		req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		testSign(req, body, AccessKey, sk, at)
		if tamper != nil {
			tamper(req)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{status: resp.StatusCode, header: resp.Header, body: b}
	}
	now := e.clock.Now()
	body, _ := json.Marshal(createReq(vpcA, subnetA, vpcep.Tag{Key: "a", Value: "b"}))
	cases := []struct {
		name   string
		method string
		path   string
		body   []byte
		sk     string
		at     time.Time
		tamper func(*http.Request)
		want   int
		code   string
	}{
		{"signed create", "POST", pp("/vpc-endpoints"), body, SecretKey, now, nil, 200, ""},
		{"signed list with query", "GET", pp("/vpc-endpoints?limit=1000&sort_dir=asc&endpoint_service_name=a%20b&sort_key=created_at"), nil, SecretKey, now, nil, 200, ""},
		{"clock 10 minutes apart", "GET", pp("/vpc-endpoints"), nil, SecretKey, now.Add(-10 * time.Minute), nil, 200, ""},
		{"second project", "GET", "/v1/" + ProjectID2 + "/quotas", nil, SecretKey, now, nil, 200, ""},
		{"wrong secret", "GET", pp("/vpc-endpoints"), nil, "not-the-key", now, nil, 401, "EndPoint.0003"},
		{"query changed after signing", "GET", pp("/vpc-endpoints?limit=1"), nil, SecretKey, now, func(r *http.Request) { r.URL.RawQuery = "limit=2" }, 401, "EndPoint.0003"},
		{"body changed after signing", "POST", pp("/vpc-endpoints"), body, SecretKey, now, func(r *http.Request) {
			b := bytes.Replace(body, []byte(`"b"`), []byte(`"c"`), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}, 401, "EndPoint.0003"},
		{"date 20 minutes old", "GET", pp("/vpc-endpoints"), nil, SecretKey, now.Add(-20 * time.Minute), nil, 401, "EndPoint.0003"},
		{"unknown access key", "GET", pp("/vpc-endpoints"), nil, SecretKey, now, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), AccessKey, "OTHERKEY", 1))
		}, 401, "EndPoint.0003"},
		{"project of another account", "GET", "/v1/00000000000000000000000000000000/vpc-endpoints", nil, SecretKey, now, nil, 403, "EndPoint.0004"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := send(c.method, c.path, c.body, c.sk, c.at, c.tamper)
			if r.status != c.want || r.errorCode() != c.code {
				t.Errorf("%s %s = %d %q, want %d %q\n%s", c.method, c.path, r.status, r.errorCode(), c.want, c.code, r.body)
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	e := newEnv(t, Options{AcceptAfter: time.Minute, Seed: 5})

	s0 := New(Options{})
	if err := s0.Load(nil); err != nil {
		t.Fatalf("Load of nothing: %v", err)
	}
	if err := s0.Load(strings.NewReader("")); err != nil {
		t.Fatalf("Load of an empty state: %v", err)
	}

	a := e.create(createReq(vpcA, subnetA, vpcep.Tag{Key: "vpcepctl-name", Value: "a"}))
	e.clock.Advance(time.Minute)
	b := e.create(createReq(vpcA, subnetA)) // still creating when saved
	e.call("DELETE", pp("/vpc-endpoints/"+a.ID), nil)
	e.sim.Put(ProjectID2, vpcep.Endpoint{EndpointServiceID: ServiceOBSID, VPCID: vpcB, Status: vpcep.StatusRejected})
	var saved bytes.Buffer
	if err := e.sim.Save(&saved); err != nil {
		t.Fatal(err)
	}

	s2 := New(Options{Now: e.clock.Now, AcceptAfter: time.Hour})
	if err := s2.Load(bytes.NewReader(saved.Bytes())); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []string{ProjectID, ProjectID2} {
		if got, want := s2.Endpoints(pid), e.sim.Endpoints(pid); !reflect.DeepEqual(got, want) {
			t.Errorf("project %s after Load:\n got %+v\nwant %+v", pid, got, want)
		}
	}
	// Settling continues from the saved times, not the new AcceptAfter.
	e.clock.Advance(time.Minute)
	got := s2.Endpoints(ProjectID)
	if len(got) != 1 || got[0].ID != b.ID || got[0].Status != vpcep.StatusAccepted {
		t.Errorf("after a minute: %+v, want only %s accepted", got, b.ID)
	}
	// New endpoints get fresh marker ids.
	s2.Put(ProjectID, vpcep.Endpoint{EndpointServiceID: ServiceInterfaceID, VPCID: vpcA})
	ms := map[int64]bool{}
	for _, ep := range s2.Endpoints(ProjectID) {
		if ms[ep.MarkerID] {
			t.Errorf("duplicate marker_id %d", ep.MarkerID)
		}
		ms[ep.MarkerID] = true
	}

	// A hand-written state without settle times still settles.
	doc := `{"format_version":1,"projects":{"` + ProjectID + `":[{"endpoint":{"id":"h1","status":"creating","endpoint_service_id":"` +
		ServiceApprovalID + `","vpc_id":"` + vpcA + `","created_at":"2025-05-06T07:00:00Z","updated_at":"2025-05-06T07:00:00Z"}}]}}`
	s3 := New(Options{Now: e.clock.Now})
	if err := s3.Load(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	if got := s3.Endpoints(ProjectID); len(got) != 1 || got[0].Status != vpcep.StatusPendingAcceptance {
		t.Errorf("hand-written state = %+v", got)
	}

	if err := s2.Load(strings.NewReader("{not json")); err == nil || !strings.Contains(err.Error(), "load simulator state") {
		t.Errorf("Load of a corrupt state = %v, want an error", err)
	}
	if len(s2.Endpoints(ProjectID)) != 2 {
		t.Errorf("failed Load changed the state")
	}
}

func TestShapes(t *testing.T) {
	e := newEnv(t, Options{Seed: 1})
	for range 40 {
		e.create(createReq(vpcA, subnetA))
	}
	r := e.call("GET", pp("/vpc-endpoints?limit=100"), nil)
	var raw struct {
		Endpoints []map[string]json.RawMessage `json:"endpoints"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	legacy, current := 0, 0
	for _, ep := range raw.Endpoints {
		_, old := ep["update_at"]
		switch {
		case old && ep["active_status"][0] == '"' && !strings.HasSuffix(string(ep["created_at"]), `Z"`):
			legacy++
		case !old && ep["active_status"][0] == '[' && strings.HasSuffix(string(ep["created_at"]), `Z"`):
			current++
		default:
			t.Errorf("mixed shape: %v", ep)
		}
		if _, ok := ep["endpoint_pool_id"]; !ok {
			t.Errorf("no endpoint_pool_id")
		}
	}
	if legacy == 0 || current == 0 {
		t.Errorf("legacy %d, current %d: want both", legacy, current)
	}
	var l vpcep.ListEndpointsResponse
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("otc cannot decode the list: %v", err)
	}
	want := e.sim.Endpoints(ProjectID)
	for i, ep := range l.Endpoints {
		w := want[len(want)-1-i]
		if ep.ID != w.ID || !ep.CreatedAt.Equal(w.CreatedAt.Time) || !ep.UpdatedAt.Equal(w.UpdatedAt.Time) || len(ep.ActiveStatus) != 1 {
			t.Errorf("decoded %+v, want %+v", ep, w)
		}
	}

	e.sim.SetOptions(Options{Now: e.clock.Now, Seed: 1, StringBools: true, PlainShapes: true})
	r = e.call("GET", pp("/vpc-endpoints?limit=1"), nil)
	if !strings.Contains(string(r.body), `"enable_dns":"false"`) || strings.Contains(string(r.body), "update_at") {
		t.Errorf("StringBools/PlainShapes: %s", r.body)
	}
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Errorf("otc cannot decode string booleans: %v", err)
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t, Options{})
	mk := func(set, name string) string {
		return e.create(createReq(vpcA, subnetA, vpcep.Tag{Key: "vpcepctl-set", Value: set}, vpcep.Tag{Key: "vpcepctl-name", Value: name})).ID
	}
	a1, a2, b1 := mk("a", "one"), mk("a", "two"), mk("b", "one")
	e.create(createReq(vpcA, subnetA))

	act := func(id, body string) {
		t.Helper()
		if r := e.call("POST", pp("/endpoint/"+id+"/tags/action"), body); r.status != 204 || len(r.body) != 0 {
			t.Fatalf("tag action = %d %s", r.status, r.body)
		}
	}
	act(a1, `{"action":"create","tags":[{"key":"team","value":"x"},{"key":"vpcepctl-name","value":"uno"}]}`)
	act(a1, `{"action":"delete","tags":[{"key":"team","value":"other"}]}`) // value differs: kept
	got, _ := e.get(a1)
	if v, _ := got.TagValue("vpcepctl-name"); v != "uno" || len(got.Tags) != 3 {
		t.Errorf("tags after create = %v", got.Tags)
	}
	act(a1, `{"action":"delete","tags":[{"key":"team"}]}`)
	if got, _ := e.get(a1); len(got.Tags) != 2 {
		t.Errorf("tags after delete = %v", got.Tags)
	}
	if r := e.call("POST", pp("/endpoint/"+a2+"/tags/action"), map[string]any{"action": "create", "tags": tags(19)}); r.status != 400 || r.errorCode() != "EndPoint.3069" {
		t.Errorf("tags over 20 = %d %s", r.status, r.body)
	}

	filter := func(body string) (ids []string, total int) {
		t.Helper()
		r := e.call("POST", pp("/endpoint/resource_instances/action"), body)
		if r.status != 200 {
			t.Fatalf("filter %s = %d %s", body, r.status, r.body)
		}
		var out struct {
			Resources []struct {
				ResourceID   string      `json:"resource_id"`
				ResourceName string      `json:"resource_name"`
				Tags         []vpcep.Tag `json:"tags"`
			} `json:"resources"`
			TotalCount int `json:"total_count"`
		}
		json.Unmarshal(r.body, &out)
		for _, res := range out.Resources {
			ids = append(ids, res.ResourceID)
		}
		return ids, out.TotalCount
	}
	if ids, n := filter(`{"action":"filter","tags":[{"key":"vpcepctl-set","values":["a"]}]}`); n != 2 || !reflect.DeepEqual(ids, []string{a1, a2}) {
		t.Errorf("set a = %v %d", ids, n)
	}
	if ids, n := filter(`{"action":"filter","tags":[{"key":"vpcepctl-set","values":[]}],"limit":"1","offset":"1"}`); n != 3 || !reflect.DeepEqual(ids, []string{a2}) {
		t.Errorf("any set, page 2 of 1 = %v %d", ids, n)
	}
	if ids, n := filter(`{"action":"filter","tags":[{"key":"vpcepctl-name","values":["one","uno"]}],"not_tags":[{"key":"vpcepctl-set","values":["b"]}]}`); n != 1 || ids[0] != a1 {
		t.Errorf("name one|uno not in set b = %v %d", ids, n)
	}
	if ids, _ := filter(`{"action":"filter","matches":[{"key":"resource_id","value":"` + b1 + `"}]}`); len(ids) != 1 || ids[0] != b1 {
		t.Errorf("match resource_id = %v", ids)
	}
	r := e.call("POST", pp("/endpoint/resource_instances/action"), `{"action":"count","tags_any":[{"key":"vpcepctl-set","values":["a","b"]}]}`)
	if string(bytes.TrimSpace(r.body)) != `{"total_count":3}` {
		t.Errorf("count = %s", r.body)
	}
	if n := e.sim.Requests("tag_filter", ""); n != 5 {
		t.Errorf("Requests(tag_filter) = %d", n)
	}
}

func TestServices(t *testing.T) {
	e := newEnv(t, Options{})
	for _, q := range []string{"id=" + ServiceApprovalID, "endpoint_service_name=" + url.QueryEscape(ServiceApprovalName)} {
		r := e.call("GET", pp("/vpc-endpoint-services/describe?"+q), nil)
		var sv vpcep.Service
		if err := json.Unmarshal(r.body, &sv); err != nil || r.status != 200 || sv.ID != ServiceApprovalID || sv.ServiceType != vpcep.ServiceInterface || !bool(sv.IsCharge) {
			t.Errorf("describe ?%s = %d %s", q, r.status, r.body)
		}
	}
	r := e.call("GET", pp("/vpc-endpoint-services/public?limit=1&sort_dir=asc"), nil)
	var pub struct {
		EndpointServices []vpcep.Service `json:"endpoint_services"`
		TotalCount       int             `json:"total_count"`
	}
	if err := json.Unmarshal(r.body, &pub); err != nil || pub.TotalCount != 2 || len(pub.EndpointServices) != 1 || pub.EndpointServices[0].ID != ServiceDNSID {
		t.Errorf("public = %s", r.body)
	}
	r = e.call("GET", pp("/vpc-endpoint-services/public?endpoint_service_name=OBS"), nil)
	if err := json.Unmarshal(r.body, &pub); err != nil || pub.TotalCount != 1 || pub.EndpointServices[0].ServiceName != ServiceOBSName || pub.EndpointServices[0].ServiceType != vpcep.ServiceGateway {
		t.Errorf("public obs = %s", r.body)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, Options{})
	e.create(createReq(vpcA, subnetA))
	e.call("GET", pp("/vpc-endpoints"), nil)
	e.clock.Advance(time.Second)
	m := scrape(t, e)
	for _, want := range []string{
		`vpcepctl_sim_requests_total{code="200",route="create"} 1`,
		`vpcepctl_sim_requests_total{code="200",route="list"} 1`,
		`vpcepctl_sim_requests_total{code="201",route="token"} 1`,
		`vpcepctl_sim_endpoints{status="accepted"} 1`,
		`vpcepctl_sim_endpoints{status="creating"} 0`,
		`vpcepctl_sim_throttled_total 0`,
		`vpcepctl_sim_lost_responses_total 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "go_goroutines") {
		t.Errorf("metrics carry the Go runtime collector")
	}
}

func scrape(t *testing.T, e *env) string {
	t.Helper()
	resp, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestEnv(t *testing.T) {
	got := Env("http://127.0.0.1:8787")
	want := []string{
		"OS_AUTH_URL=http://127.0.0.1:8787/v3", "OS_USERNAME=" + Username, "OS_PASSWORD=" + Password,
		"OS_USER_DOMAIN_NAME=" + DomainName, "OS_PROJECT_ID=" + ProjectID, "OS_REGION_NAME=" + Region,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Env = %v, want %v", got, want)
	}
}

func TestPut(t *testing.T) {
	s := New(Options{})
	s.Put(ProjectID, vpcep.Endpoint{ID: "x", EndpointServiceID: ServiceOBSID, VPCID: vpcA, Status: vpcep.StatusFailed,
		Error: []vpcep.EndpointError{{ErrorCode: "EndPoint.2022", ErrorMessage: "Failed to create an endpoint."}}})
	s.Put(ProjectID, vpcep.Endpoint{ID: "x", EndpointServiceID: ServiceOBSID, VPCID: vpcB})
	got := s.Endpoints(ProjectID)
	if len(got) != 1 || got[0].VPCID != vpcB || got[0].Status != vpcep.StatusAccepted || got[0].ServiceType != vpcep.ServiceGateway ||
		got[0].EndpointServiceName != ServiceOBSName || got[0].MarkerID <= 1<<31 {
		t.Errorf("Put replaced = %+v", got)
	}
	if err := s.SetStatus(ProjectID, "nope", vpcep.StatusRejected); err == nil {
		t.Errorf("SetStatus of a missing endpoint succeeded")
	}
}

// TestConcurrent runs creates, lists, tags and deletes in parallel (go test -race).
func TestConcurrent(t *testing.T) {
	e := newEnv(t, Options{AcceptAfter: time.Millisecond, ThrottleRPS: 10000, FailRate: 0.05, Seed: 9})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				r := e.call("POST", pp("/vpc-endpoints"), createReq(vpcA, subnetA, vpcep.Tag{Key: "w", Value: fmt.Sprint(w)}))
				e.clock.Advance(time.Millisecond)
				e.call("GET", pp("/vpc-endpoints?limit=1000&sort_dir=asc"), nil)
				var ep vpcep.Endpoint
				if json.Unmarshal(r.body, &ep) == nil && ep.ID != "" && i%2 == 0 {
					e.call("POST", pp("/endpoint/"+ep.ID+"/tags/action"), `{"action":"create","tags":[{"key":"i","value":"`+fmt.Sprint(i)+`"}]}`)
					e.call("DELETE", pp("/vpc-endpoints/"+ep.ID), nil)
				}
				scrapeOK(e)
			}
		})
	}
	wg.Wait()
	e.clock.Advance(time.Second)
	if n := len(e.sim.Endpoints(ProjectID)); n > 50 {
		t.Errorf("%d endpoints over the quota of 50", n)
	}
}

func scrapeOK(e *env) {
	if resp, err := http.Get(e.srv.URL + "/metrics"); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
