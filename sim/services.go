package sim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// service is a seeded VPC endpoint service.
type service struct {
	ID       string
	Name     string
	Type     string
	Approval bool
	Public   bool
	Owner    string
	// Project is the project that owns the service (its provider side:
	// details, connections, accepting them); "" for the cloud's services.
	Project string
	Created time.Time
}

var services = []service{
	{ID: ServiceInterfaceID, Name: ServiceInterfaceName, Type: vpcep.ServiceInterface,
		Owner: "payments", Project: ProjectID2, Created: time.Date(2023, 3, 14, 9, 26, 53, 0, time.UTC)},
	{ID: ServiceApprovalID, Name: ServiceApprovalName, Type: vpcep.ServiceInterface, Approval: true,
		Owner: "ledger", Project: ProjectID2, Created: time.Date(2023, 6, 2, 11, 4, 17, 0, time.UTC)},
	{ID: ServiceOwnApprovalID, Name: ServiceOwnApprovalName, Type: vpcep.ServiceInterface, Approval: true,
		Owner: "audit", Project: ProjectID, Created: time.Date(2024, 2, 20, 8, 15, 0, 0, time.UTC)},
	{ID: ServiceOBSID, Name: ServiceOBSName, Type: vpcep.ServiceGateway, Public: true,
		Owner: "OTC", Created: time.Date(2019, 3, 28, 9, 30, 27, 0, time.UTC)},
	{ID: ServiceDNSID, Name: ServiceDNSName, Type: vpcep.ServiceInterface, Public: true,
		Owner: "OTC", Created: time.Date(2018, 9, 10, 13, 13, 23, 0, time.UTC)},
}

func serviceByID(id string) (service, bool) {
	for _, s := range services {
		if s.ID == id {
			return s, true
		}
	}
	return service{}, false
}

func serviceByName(name string) (service, bool) {
	for _, s := range services {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return service{}, false
}

// wireService is a service as describe and the public list return it. The
// docs' examples send is_charge as a string.
type wireService struct {
	ID          string `json:"id"`
	Owner       string `json:"owner,omitempty"`
	ServiceName string `json:"service_name"`
	ServiceType string `json:"service_type"`
	CreatedAt   string `json:"created_at"`
	IsCharge    string `json:"is_charge"`
}

func (sv service) wire(withOwner bool) wireService {
	w := wireService{ID: sv.ID, ServiceName: sv.Name, ServiceType: sv.Type,
		CreatedAt: sv.Created.Format(timeZ), IsCharge: "true"}
	if withOwner {
		w.Owner = sv.Owner
	}
	return w
}

// describeService answers GET /v1/{pid}/vpc-endpoint-services/describe
// ?endpoint_service_name=...|id=... (basic information).
func (s *Sim) describeService(q url.Values) response {
	id, name := q.Get("id"), q.Get("endpoint_service_name")
	var (
		sv service
		ok bool
	)
	switch {
	case id != "":
		sv, ok = serviceByID(id)
		if ok && name != "" && !strings.EqualFold(sv.Name, name) {
			ok = false
		}
	case name != "":
		sv, ok = serviceByName(name)
	default:
		return apiError(http.StatusBadRequest, "EndPoint.2002", "The request input parameter is empty.")
	}
	if !ok {
		return apiError(http.StatusNotFound, "EndPoint.0005", "The requested resource does not exist.")
	}
	return jsonResponse(http.StatusOK, sv.wire(false))
}

// publicServices answers GET /v1/{pid}/vpc-endpoint-services/public.
func (s *Sim) publicServices(q url.Values) response {
	pg, errResp := parsePaging(q)
	if errResp != nil {
		return *errResp
	}
	name, id := strings.ToLower(q.Get("endpoint_service_name")), q.Get("id")
	var match []service
	for _, sv := range services {
		if !sv.Public || (id != "" && sv.ID != id) || (name != "" && !strings.Contains(strings.ToLower(sv.Name), name)) {
			continue
		}
		match = append(match, sv)
	}
	slices.SortStableFunc(match, func(a, b service) int { return a.Created.Compare(b.Created) })
	if pg.desc {
		slices.Reverse(match)
	}
	out := struct {
		EndpointServices []wireService `json:"endpoint_services"`
		TotalCount       int           `json:"total_count"`
	}{EndpointServices: []wireService{}, TotalCount: len(match)}
	for i := pg.offset; i < len(match) && i < pg.offset+pg.limit; i++ {
		out.EndpointServices = append(out.EndpointServices, match[i].wire(true))
	}
	return jsonResponse(http.StatusOK, out)
}

// quota answers GET /v1/{pid}/quotas[?type=endpoint|endpoint_service].
func (s *Sim) quota(pid string, q url.Values) response {
	typ := q.Get("type")
	if typ != "" && typ != "endpoint" && typ != "endpoint_service" {
		return apiError(http.StatusBadRequest, "EndPoint.0002", "Parameter error.")
	}
	s.mu.Lock()
	s.settle(s.now())
	used := len(s.project(pid).byID)
	s.mu.Unlock()
	var res []vpcep.Quota
	if typ == "" || typ == "endpoint" {
		res = append(res, vpcep.Quota{Type: "endpoint", Used: used, Quota: s.quotaLimit()})
	}
	if typ == "" || typ == "endpoint_service" {
		res = append(res, vpcep.Quota{Type: "endpoint_service", Used: 0, Quota: 20})
	}
	var out struct {
		Quotas struct {
			Resources []vpcep.Quota `json:"resources"`
		} `json:"quotas"`
	}
	out.Quotas.Resources = res
	return jsonResponse(http.StatusOK, out)
}

func (s *Sim) quotaLimit() int {
	if q := s.opts.Load().Quota; q > 0 {
		return q
	}
	return DefaultQuota
}
