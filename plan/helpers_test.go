package plan

import (
	"bytes"
	"hash/fnv"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

const (
	projA  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	projB  = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	vpc1   = "11111111-1111-4111-8111-111111111111"
	vpc2   = "22222222-2222-4222-8222-222222222222"
	subA   = "aaaaaaaa-0000-4000-8000-00000000000a"
	subB   = "bbbbbbbb-0000-4000-8000-00000000000b"
	rtMain = "cccccccc-0000-4000-8000-00000000000c"
)

var (
	targetA = Target{Region: "eu-de", ProjectID: projA}
	targetB = Target{Region: "eu-nl", ProjectID: projB}

	svcIf = &vpcep.Service{ID: "5e5e5e5e-0000-4000-8000-000000000001", ServiceName: "com.t-systems.otc.eu-de.dns", ServiceType: "interface"}
	svcGw = &vpcep.Service{ID: "5e5e5e5e-0000-4000-8000-000000000002", ServiceName: "com.t-systems.otc.eu-de.obs", ServiceType: "gateway"}

	t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

func services() map[string]*vpcep.Service {
	return map[string]*vpcep.Service{
		svcIf.ID: svcIf, svcIf.ServiceName: svcIf,
		svcGw.ID: svcGw, svcGw.ServiceName: svcGw,
	}
}

func ptr[T any](v T) *T { return &v }

// want is a desired interface endpoint in vpc1/subA of svcIf; edit
// returns it changed.
func want(set, name string, edit ...func(*manifests.Endpoint)) *manifests.Endpoint {
	d := &manifests.Endpoint{
		Set: set, Name: name, EndpointServiceID: svcIf.ID, VPCID: vpc1, SubnetID: subA,
		Tags:     map[string]string{"team": set},
		Pos:      manifests.Pos{File: set + ".yaml", Line: 10, Col: 5},
		FieldPos: map[string]manifests.Pos{"endpoint_service_id": {File: set + ".yaml", Line: 6, Col: 3}},
	}
	for _, e := range edit {
		e(d)
	}
	return d
}

// have is an observed accepted interface endpoint matching want(set, name)
// (no tags when set is ""); edit returns it changed.
func have(id, set, name string, edit ...func(*vpcep.Endpoint)) vpcep.Endpoint {
	e := vpcep.Endpoint{
		ID: id, ServiceType: "interface", Status: vpcep.StatusAccepted,
		EndpointServiceID: svcIf.ID, EndpointServiceName: svcIf.ServiceName,
		VPCID: vpc1, SubnetID: subA, IP: "10.0.0.10",
		CreatedAt: vpcep.Time{Time: t0},
	}
	if set != "" {
		e.Tags = []vpcep.Tag{{Key: "team", Value: set}, {Key: manifests.TagSet, Value: set}, {Key: manifests.TagName, Value: name}}
	}
	for _, ed := range edit {
		ed(&e)
	}
	return e
}

func gateway(d *manifests.Endpoint) {
	d.EndpointServiceID, d.SubnetID = svcGw.ID, ""
}

func gatewayHave(e *vpcep.Endpoint) {
	e.ServiceType, e.EndpointServiceID, e.EndpointServiceName = "gateway", svcGw.ID, svcGw.ServiceName
	e.SubnetID, e.IP = "", ""
	e.RouteTables = []string{rtMain}
	e.PolicyStatement = []vpcep.PolicyStatement{{Effect: "Allow", Action: []string{"obs:*:*"}, Resource: []string{"*:*:*:*:*"}}}
}

func status(s string) func(*vpcep.Endpoint) { return func(e *vpcep.Endpoint) { e.Status = s } }

func age(d time.Duration) func(*vpcep.Endpoint) {
	return func(e *vpcep.Endpoint) { e.CreatedAt = vpcep.Time{Time: t0.Add(d)} }
}

const subRenamed = "cccccccc-0000-4000-8000-00000000000c"

// scenario has every action and every status, several sets, an unmanaged
// endpoint, another set's endpoint, duplicates, a gateway and an interface
// service, in two targets.
func scenario() []Input {
	a := Input{
		Target:   targetA,
		Services: services(),
		Sets:     []string{"retired"}, // declared with endpoints: [] (owns, declares none)
		Quota:    &vpcep.Quota{Type: "endpoint", Used: 14, Quota: 50},
		Desired: []*manifests.Endpoint{
			want("payments", "app-new"),
			want("payments", "app-ok", func(d *manifests.Endpoint) { d.EnableDNS = ptr(true) }),
			want("payments", "app-creating", func(d *manifests.Endpoint) { d.PortIP = "10.0.0.20" }),
			want("payments", "app-pending"),
			want("payments", "app-tags", func(d *manifests.Endpoint) { d.Tags["env"] = "prod"; d.Tags["cost"] = "42" }),
			want("payments", "app-failed"),
			want("payments", "app-drift", func(d *manifests.Endpoint) {
				d.PortIP, d.Whitelist = "10.0.0.30", []string{"10.0.0.0/8", "192.168.0.0/16"}
			}),
			want("payments", "app-rejected"),
			want("payments", "app-dup"),
			want("payments", "app-adopt", func(d *manifests.Endpoint) { d.SubnetID = subB }),
			want("payments", "app-billing", func(d *manifests.Endpoint) { d.VPCID = vpc2 }),
			want("payments", "app-deleting"),
			want("payments", "app-renamed", func(d *manifests.Endpoint) { d.SubnetID = subRenamed }),
			want("search", "obs", gateway, func(d *manifests.Endpoint) { d.EnableDNS = ptr(true) }), // a gateway ignores enable_dns
			want("search", "obs-rt", gateway, func(d *manifests.Endpoint) {
				d.VPCID, d.RouteTables = vpc2, []string{"dddddddd-0000-4000-8000-00000000000d"}
			}),
		},
		Observed: []vpcep.Endpoint{
			have("ep-ok", "payments", "app-ok", func(e *vpcep.Endpoint) { e.EnableDNS = true }),
			have("ep-creating", "payments", "app-creating", status(vpcep.StatusCreating), func(e *vpcep.Endpoint) { e.IP = "" }),
			have("ep-pending", "payments", "app-pending", status(vpcep.StatusPendingAcceptance)),
			have("ep-tags", "payments", "app-tags", func(e *vpcep.Endpoint) {
				e.Tags = append(e.Tags, vpcep.Tag{Key: "env", Value: "dev"}, vpcep.Tag{Key: "owner", Value: "bob"})
			}),
			have("ep-failed", "payments", "app-failed", status(vpcep.StatusFailed), func(e *vpcep.Endpoint) {
				e.Error = []vpcep.EndpointError{{ErrorCode: "EndPoint.2022", ErrorMessage: "Failed to create an endpoint."}}
			}),
			have("ep-drift", "payments", "app-drift", func(e *vpcep.Endpoint) { e.Whitelist = []string{"192.168.0.0/16"} }),
			have("ep-rejected", "payments", "app-rejected", status(vpcep.StatusRejected)),
			have("ep-dup-1", "payments", "app-dup", status(vpcep.StatusCreating), age(-time.Hour)),
			have("ep-dup-2", "payments", "app-dup", age(time.Hour)),
			have("ep-dup-3", "payments", "app-dup", status(vpcep.StatusFailed), age(-2*time.Hour)),
			have("ep-unmanaged", "", "", func(e *vpcep.Endpoint) {
				e.SubnetID = subB
				e.Tags = []vpcep.Tag{{Key: "owner", Value: "console"}}
			}),
			have("ep-billing", "billing", "db", func(e *vpcep.Endpoint) { e.VPCID = vpc2 }),
			have("ep-deleting", "payments", "app-deleting", status(vpcep.StatusDeleting)),
			have("ep-old", "payments", "app-old"),
			have("ep-renamed", "", "", func(e *vpcep.Endpoint) { // lost its name tag
				e.SubnetID = subRenamed
				e.Tags = []vpcep.Tag{{Key: "team", Value: "payments"}, {Key: manifests.TagSet, Value: "payments"}}
			}),
			have("ep-retired", "retired", "cache", status(vpcep.StatusPendingAcceptance)),
			have("ep-gw", "search", "obs", gatewayHave),
			have("ep-gw-rt", "search", "obs-rt", gatewayHave, func(e *vpcep.Endpoint) {
				e.VPCID, e.RouteTables = vpc2, []string{"dddddddd-0000-4000-8000-00000000000d"}
			}),
			have("ep-other", "", "", func(e *vpcep.Endpoint) { e.VPCID, e.SubnetID = vpc2, subB }), // unmanaged, nothing wants it
		},
	}
	b := Input{
		Target:   targetB,
		Services: services(),
		Quota:    &vpcep.Quota{Type: "endpoint", Used: 50, Quota: 50},
		Desired: []*manifests.Endpoint{
			want("payments", "app-nl"),
			want("payments", "app-nl-ok"),
		},
		Observed: []vpcep.Endpoint{have("ep-nl-ok", "payments", "app-nl-ok")},
	}
	return []Input{b, a} // not in target order
}

// text renders p for a failure message.
func text(p *Plan) string {
	var b bytes.Buffer
	if err := WriteText(&b, p, TextOptions{}); err != nil {
		return err.Error()
	}
	return b.String()
}

func fnvRef(s string) int {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int(h.Sum32())
}
