package sim

// This file is the provider side of the endpoint services a project
// owns: their details, their connections (the endpoints of every project
// that connect to them), and accepting or rejecting a connection. Only
// the owning project sees them; to any other, the service does not exist
// here (400 EndPoint.2003), as on the real API.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// ownService returns the service id that project pid owns.
func ownService(pid, id string) (service, *response) {
	sv, ok := serviceByID(id)
	if !ok || sv.Project != pid {
		resp := apiError(http.StatusBadRequest, "EndPoint.2003", "The endpoint service does not exist.")
		return service{}, &resp
	}
	return sv, nil
}

// serviceDetails answers GET /v1/{pid}/vpc-endpoint-services/{id}.
func (s *Sim) serviceDetails(pid, id string) response {
	sv, errResp := ownService(pid, id)
	if errResp != nil {
		return *errResp
	}
	return jsonResponse(http.StatusOK, struct {
		ID           string `json:"id"`
		ServiceName  string `json:"service_name"`
		ServiceType  string `json:"service_type"`
		ProjectID    string `json:"project_id"`
		Status       string `json:"status"`
		ApprovalOn   bool   `json:"approval_enabled"`
		CreatedAt    string `json:"created_at"`
		UpdatedAt    string `json:"updated_at"`
		ConnectionNo int    `json:"connection_count"`
	}{sv.ID, sv.Name, sv.Type, sv.Project, "available", sv.Approval, sv.Created.Format(timeZ), sv.Created.Format(timeZ), len(s.connected(sv.ID))})
}

// connection is a connection as the provider side shows it.
type connection struct {
	ID        string `json:"id"`
	MarkerID  int64  `json:"marker_id"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	DomainID  string `json:"domain_id"`
	Status    string `json:"status"`
}

// connected returns the records of every project that connect to the
// service, oldest first.
func (s *Sim) connected(serviceID string) []*record {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.now())
	var out []*record
	for _, p := range s.projects {
		for _, r := range p.live() {
			if strings.EqualFold(r.ep.EndpointServiceID, serviceID) {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b *record) int { return a.ep.CreatedAt.Compare(b.ep.CreatedAt.Time) })
	return out
}

func connectionOf(r *record) connection {
	return connection{ID: r.ep.ID, MarkerID: r.ep.MarkerID, CreatedAt: r.ep.CreatedAt.UTC().Format(timeZ),
		UpdatedAt: r.ep.UpdatedAt.UTC().Format(timeZ), DomainID: DomainID, Status: r.ep.Status}
}

// connections answers GET /v1/{pid}/vpc-endpoint-services/{id}/connections
// [?id=endpoint&status=...] (one page of up to 1000).
func (s *Sim) connections(pid, id string, q url.Values) response {
	if _, errResp := ownService(pid, id); errResp != nil {
		return *errResp
	}
	out := struct {
		Connections []connection `json:"connections"`
		TotalCount  int          `json:"total_count"`
	}{Connections: []connection{}}
	for _, r := range s.connected(id) {
		if (q.Get("id") == "" || q.Get("id") == r.ep.ID) && (q.Get("status") == "" || q.Get("status") == r.ep.Status) {
			out.Connections = append(out.Connections, connectionOf(r))
		}
	}
	out.TotalCount = len(out.Connections)
	return jsonResponse(http.StatusOK, out)
}

// connectionAction answers POST /v1/{pid}/vpc-endpoint-services/{id}/
// connections/action: {"action": "receive"|"reject", "endpoints": [one id]}.
func (s *Sim) connectionAction(pid, id string, body []byte) response {
	if _, errResp := ownService(pid, id); errResp != nil {
		return *errResp
	}
	var req struct {
		Action    string   `json:"action"`
		Endpoints []string `json:"endpoints"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return apiError(http.StatusBadRequest, "EndPoint.0002", "Parameter error.")
	}
	if req.Action != "receive" && req.Action != "reject" {
		return apiError(http.StatusBadRequest, "EndPoint.2027", "Invalid action.")
	}
	if len(req.Endpoints) != 1 {
		return apiError(http.StatusBadRequest, "EndPoint.2031", "Only one endpoint is allowed.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.settle(now)
	var r *record
	for _, p := range s.projects {
		if x := p.byID[req.Endpoints[0]]; x != nil && strings.EqualFold(x.ep.EndpointServiceID, id) {
			r = x
		}
	}
	switch {
	case r == nil:
		return apiError(http.StatusBadRequest, "EndPoint.2013", "The endpoint does not belong to the endpoint service.")
	case r.ep.Status == vpcep.StatusCreating:
		return apiError(http.StatusBadRequest, "EndPoint.2019", "The endpoint is being created.")
	case r.ep.Status == vpcep.StatusDeleting:
		return apiError(http.StatusBadRequest, "EndPoint.2018", "The endpoint is being deleted.")
	case r.ep.Status == vpcep.StatusAccepted && req.Action == "receive":
		return apiError(http.StatusBadRequest, "EndPoint.2014", "The endpoint has been connected to the endpoint service.")
	}
	r.ep.Status, r.final = vpcep.StatusAccepted, vpcep.StatusAccepted
	if req.Action == "reject" {
		r.ep.Status, r.final = vpcep.StatusRejected, vpcep.StatusRejected
	}
	r.ep.UpdatedAt = vpcep.Time{Time: now}
	return jsonResponse(http.StatusOK, struct {
		Connections []connection `json:"connections"`
	}{[]connection{connectionOf(r)}})
}
