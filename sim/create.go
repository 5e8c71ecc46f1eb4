package sim

// This file answers creates: the validation of the body, the quota, port
// IP and route table checks, and the commit, now or late (CommitDelay).

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// create answers POST /v1/{pid}/vpc-endpoints. With delay > 0 the create
// is validated now and committed delay later (a lost answer; see
// Options.CommitDelay), and the answer is 202 for the caller to drop.
func (s *Sim) create(pid string, body []byte, delay time.Duration) response {
	if len(bytes.TrimSpace(body)) == 0 {
		return apiError(http.StatusBadRequest, "EndPoint.1004", "Invalid request.")
	}
	var req vpcep.CreateEndpointRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return apiError(http.StatusBadRequest, "EndPoint.1004", "Invalid request.")
	}
	svc, bad := validateCreate(&req)
	if bad != nil {
		return *bad
	}

	rd := s.renderer()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.settle(now)
	if delay > 0 {
		// Accepted by the front, committed by the back end only later
		// (see Options.CommitDelay); the caller drops this answer.
		heap.Push(&s.events, &event{at: now.Add(delay), kind: evCommit, pid: pid,
			create: &pendingCreate{req: req, svc: svc}})
		return response{status: http.StatusAccepted}
	}
	r, bad := s.commitCreate(pid, &req, svc, now)
	if bad != nil {
		return *bad
	}
	// Rendered before settling: the create answer always says creating.
	return jsonResponse(http.StatusOK, rd.render(r))
}

// pendingCreate is a create the back end commits late (Options.CommitDelay).
type pendingCreate struct {
	req vpcep.CreateEndpointRequest
	svc service
}

// commitCreate stores the endpoint of a validated create body at time at:
// the checks that need the project's state (quota, port IP, route tables),
// then the insert. Callers hold mu.
func (s *Sim) commitCreate(pid string, req *vpcep.CreateEndpointRequest, svc service, at time.Time) (*record, *response) {
	fail := func(code, msg string) (*record, *response) {
		r := apiError(http.StatusBadRequest, code, msg)
		return nil, &r
	}
	opts := s.opts.Load()
	// created_at has one-second resolution, as the API's.
	now := at.Truncate(time.Second)
	p := s.project(pid)
	if len(p.byID) >= s.quotaLimit() {
		return fail("Endpoint.1018", "Quota exceeded.")
	}
	e := vpcep.Endpoint{
		ID: newUUID(), ServiceType: svc.Type, Status: vpcep.StatusCreating,
		ActiveStatus: vpcep.StringList{"active"}, EndpointServiceName: svc.Name,
		EndpointServiceID: svc.ID, VPCID: strings.ToLower(req.VPCID), ProjectID: pid,
		SpecificationName: "default", EnableStatus: "enable", Description: req.Description,
		Tags:      slices.Clone(req.Tags),
		CreatedAt: vpcep.Time{Time: now}, UpdatedAt: vpcep.Time{Time: now},
	}
	if req.SpecificationName != "" {
		e.SpecificationName = req.SpecificationName
	}
	if svc.Type == vpcep.ServiceInterface {
		e.SubnetID = strings.ToLower(req.SubnetID)
		if req.PortIP != "" {
			if _, used := p.ips[e.SubnetID+"/"+req.PortIP]; used {
				return fail("EndPoint.2042", "The Port IP is in use.")
			}
			e.IP = req.PortIP
		} else {
			e.IP = p.allocIP(e.SubnetID)
		}
		e.EnableDNS = vpcep.Bool(req.EnableDNS != nil && *req.EnableDNS)
		if e.EnableDNS {
			e.DNSNames = []string{e.ID + "." + Region + ".vpcep.otc.t-systems.com"}
		}
		e.Whitelist = slices.Clone(req.Whitelist)
		e.EnableWhitelist = vpcep.Bool(req.EnableWhitelist != nil && *req.EnableWhitelist)
	} else {
		e.RouteTables = slices.Clone(req.RouteTables)
		if len(e.RouteTables) == 0 {
			e.RouteTables = []string{derivedUUID("route-table", e.VPCID)}
		}
		for _, o := range p.live() {
			if o.removed || o.ep.EndpointServiceID != svc.ID || o.ep.Status == vpcep.StatusDeleting || o.ep.Status == vpcep.StatusFailed {
				continue
			}
			for _, rt := range e.RouteTables {
				if slices.Contains(o.ep.RouteTables, rt) {
					return fail("EndPoint.2039", "The route table is being used by another VPC endpoint.")
				}
			}
		}
		e.PolicyStatement = req.PolicyStatement
		if len(e.PolicyStatement) == 0 {
			e.PolicyStatement = defaultPolicy
		}
	}
	s.marker++
	e.MarkerID = s.marker
	s.seq++
	r := &record{ep: e, seq: s.seq, born: at, readyAt: at.Add(opts.AcceptAfter), final: vpcep.StatusAccepted}
	if svc.Approval {
		r.final = vpcep.StatusPendingAcceptance
	}
	if s.chance(opts.FailedRate) {
		r.final = vpcep.StatusFailed
		r.finalErr = []vpcep.EndpointError{failures[s.rng.IntN(len(failures))]}
	}
	r.ep = normalize(r.ep)
	p.insert(r)
	s.schedule(pid, r)
	return r, nil
}

var failures = []vpcep.EndpointError{
	{ErrorCode: "EndPoint.2022", ErrorMessage: "Failed to create an endpoint."},
	{ErrorCode: "EndPoint.3001", ErrorMessage: "Failed to create a port."},
	{ErrorCode: "EndPoint.2016", ErrorMessage: "The endpoint pool IP address does not exist."},
}

// validateCreate checks a create body as far as it can without state and
// returns the endpoint service.
func validateCreate(req *vpcep.CreateEndpointRequest) (service, *response) {
	fail := func(code, msg string) (service, *response) {
		r := apiError(http.StatusBadRequest, code, msg)
		return service{}, &r
	}
	if req.EndpointServiceID == "" {
		return fail("EndPoint.2029", "The requested endpoint service ID is empty.")
	}
	svc, ok := serviceByID(strings.ToLower(req.EndpointServiceID))
	if !ok {
		return fail("EndPoint.2003", "The endpoint service does not exist.")
	}
	if req.VPCID == "" {
		return fail("EndPoint.2011", "The input parameter VPC ID is empty.")
	}
	if !isUUID(req.VPCID) {
		return fail("EndPoint.0020", "Invalid VPC ID.")
	}
	switch svc.Type {
	case vpcep.ServiceInterface:
		if req.SubnetID == "" {
			return fail("EndPoint.2010", "The input parameter subnet ID is empty.")
		}
		if !isUUID(req.SubnetID) {
			return fail("EndPoint.0023", "Invalid subnet_id.")
		}
		if req.PortIP != "" {
			if a, err := netip.ParseAddr(req.PortIP); err != nil || !a.Is4() {
				return fail("EndPoint.2041", "Invalid Port IP address.")
			}
		}
		if len(req.RouteTables) > 0 || len(req.PolicyStatement) > 0 {
			return fail("EndPoint.0002", "Parameter error.")
		}
		for _, w := range req.Whitelist {
			if !isIPv4OrCIDR(w) {
				return fail("EndPoint.2044", "Invalid whitelist.")
			}
		}
	case vpcep.ServiceGateway:
		if req.SubnetID != "" || req.PortIP != "" || len(req.Whitelist) > 0 || req.EnableWhitelist != nil {
			return fail("EndPoint.0002", "Parameter error.")
		}
		for _, rt := range req.RouteTables {
			if !isUUID(rt) {
				return fail("EndPoint.1019", "Invalid route table ID.")
			}
		}
		if len(req.PolicyStatement) > 10 {
			return fail("EndPoint.2048", "The VPC endpoint policy is invalid.")
		}
		for _, ps := range req.PolicyStatement {
			if ps.Effect != "Allow" && ps.Effect != "Deny" || len(ps.Action) == 0 || len(ps.Resource) == 0 {
				return fail("EndPoint.2048", "The VPC endpoint policy is invalid.")
			}
		}
	}
	if utf8.RuneCountInString(req.Description) > 128 || strings.ContainsAny(req.Description, "<>") {
		return fail("EndPoint.0002", "Parameter error.")
	}
	if req.SpecificationName != "" && req.SpecificationName != "default" {
		return fail("EndPoint.2009", "The specification information does not exist.")
	}
	if bad := validateTags(req.Tags); bad != nil {
		return service{}, bad
	}
	return svc, nil
}

// validateTags applies the tag rules: at most 20, keys 1-36 and values 0-43
// characters of letters, digits, '-', '_' and '@', keys unique.
func validateTags(tags []vpcep.Tag) *response {
	fail := func(code, msg string) *response {
		r := apiError(http.StatusBadRequest, code, msg)
		return &r
	}
	if len(tags) > maxTags {
		return fail("EndPoint.3069", "The maximum number of tags has been reached.")
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		switch {
		case t.Key == "":
			return fail("EndPoint.3066", "The tag cannot be empty.")
		case utf8.RuneCountInString(t.Key) > 36:
			return fail("EndPoint.3072", "The tag key size is invalid.")
		case utf8.RuneCountInString(t.Value) > 43:
			return fail("EndPoint.3073", "The tag value size is invalid.")
		case !tagChars(t.Key) || !tagChars(t.Value):
			return fail("EndPoint.3068", "Tag keys and values should meet relevant requirements.")
		case seen[t.Key]:
			return fail("EndPoint.3067", "The tag key cannot be duplicated.")
		}
		seen[t.Key] = true
	}
	return nil
}

func tagChars(s string) bool {
	for _, c := range s {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '-' && c != '_' && c != '@' {
			return false
		}
	}
	return true
}
