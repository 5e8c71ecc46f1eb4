package sim

// This file renders endpoints in the shapes real responses take: the
// documented one, and on a seeded share the older one (timestamps without
// zone, update_at, active_status as a string, booleans as strings).

import (
	"strconv"
	"sync"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// wireEndpoint is an endpoint as create, get and list send it. Fields whose
// presence or type depends on the service type or the response shape are
// of type any (nil is omitted).
type wireEndpoint struct {
	ID                  string                  `json:"id"`
	Status              string                  `json:"status"`
	IP                  string                  `json:"ip,omitempty"`
	Tags                []vpcep.Tag             `json:"tags"`
	Whitelist           any                     `json:"whitelist,omitempty"`
	MarkerID            int64                   `json:"marker_id"`
	ActiveStatus        any                     `json:"active_status"`
	VPCID               string                  `json:"vpc_id"`
	ServiceType         string                  `json:"service_type"`
	ProjectID           string                  `json:"project_id"`
	SubnetID            string                  `json:"subnet_id,omitempty"`
	EnableDNS           any                     `json:"enable_dns,omitempty"`
	DNSNames            []string                `json:"dns_names,omitempty"`
	RouteTables         []string                `json:"routetables,omitempty"`
	CreatedAt           string                  `json:"created_at"`
	UpdatedAt           string                  `json:"updated_at,omitempty"`
	UpdateAt            string                  `json:"update_at,omitempty"`
	EndpointServiceID   string                  `json:"endpoint_service_id"`
	EndpointServiceName string                  `json:"endpoint_service_name"`
	EnableWhitelist     any                     `json:"enable_whitelist,omitempty"`
	PolicyStatement     []vpcep.PolicyStatement `json:"policy_statement,omitempty"`
	SpecificationName   string                  `json:"specification_name"`
	EnableStatus        string                  `json:"enable_status"`
	Description         string                  `json:"description"`
	EndpointPoolID      string                  `json:"endpoint_pool_id"`
	Error               []vpcep.EndpointError   `json:"error,omitempty"`
}

// renderer renders endpoints under one set of options.
type renderer struct {
	seed        string
	plain       bool
	stringBools bool
}

func (s *Sim) renderer() renderer {
	o := s.opts.Load()
	return renderer{seed: strconv.FormatInt(o.Seed, 10), plain: o.PlainShapes, stringBools: o.StringBools}
}

// legacy reports whether an endpoint is rendered in the older shape: about
// one in four, fixed by the seed and the id.
func (rd renderer) legacy(id string) bool {
	return !rd.plain && fnv64(rd.seed, id)%4 == 0
}

func (rd renderer) boolean(b vpcep.Bool) any {
	if rd.stringBools {
		return strconv.FormatBool(bool(b))
	}
	return bool(b)
}

func (rd renderer) render(r *record) wireEndpoint {
	e := visible(r)
	w := wireEndpoint{
		ID: e.ID, Status: e.Status, IP: e.IP, Tags: e.Tags, MarkerID: e.MarkerID,
		VPCID: e.VPCID, ServiceType: e.ServiceType, ProjectID: e.ProjectID,
		EndpointServiceID: e.EndpointServiceID, EndpointServiceName: e.EndpointServiceName,
		SpecificationName: e.SpecificationName, EnableStatus: e.EnableStatus,
		Description: e.Description, EndpointPoolID: poolID(e.ProjectID),
		Error: e.Error,
	}
	if w.Tags == nil {
		w.Tags = []vpcep.Tag{}
	}
	if w.SpecificationName == "" {
		w.SpecificationName = "default"
	}
	if w.EnableStatus == "" {
		w.EnableStatus = "enable"
	}
	active := []string(e.ActiveStatus)
	if len(active) == 0 {
		active = []string{"active"}
	}
	if rd.legacy(e.ID) {
		w.ActiveStatus = active[0]
		w.CreatedAt = e.CreatedAt.UTC().Format(timeLegacy)
		w.UpdateAt = e.UpdatedAt.UTC().Format(timeLegacy)
	} else {
		w.ActiveStatus = active
		w.CreatedAt = e.CreatedAt.UTC().Format(timeZ)
		w.UpdatedAt = e.UpdatedAt.UTC().Format(timeZ)
	}
	if e.ServiceType == vpcep.ServiceGateway {
		w.RouteTables = e.RouteTables
		w.PolicyStatement = e.PolicyStatement
	} else {
		w.SubnetID = e.SubnetID
		w.EnableDNS = rd.boolean(e.EnableDNS)
		w.DNSNames = e.DNSNames
		wl := e.Whitelist
		if wl == nil {
			wl = []string{}
		}
		w.Whitelist = wl
		w.EnableWhitelist = rd.boolean(e.EnableWhitelist)
	}
	return w
}

var poolIDs sync.Map

func poolID(pid string) string {
	if v, ok := poolIDs.Load(pid); ok {
		return v.(string)
	}
	id := derivedUUID("endpoint-pool", pid)
	poolIDs.Store(pid, id)
	return id
}
