package sim

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the VPC endpoint routes: create, list, get, delete, the
// tag action and the tag filter, with the validation and error codes of the
// reference pages, and the rendering of endpoints in the shapes real
// responses take.

const (
	timeZ      = "2006-01-02T15:04:05Z"    // documented: YYYY-MM-DDTHH:MM:SSZ
	timeLegacy = "2006-01-02T15:04:05.000" // older responses: no zone
	maxTags    = 20
)

var defaultPolicy = []vpcep.PolicyStatement{{
	Effect:   "Allow",
	Action:   []string{"obs:*:*"},
	Resource: []string{"obs:*:*:*:*/*", "obs:*:*:*:*"},
}}

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

var poolIDs sync.Map // project id -> endpoint_pool_id

func poolID(pid string) string {
	if v, ok := poolIDs.Load(pid); ok {
		return v.(string)
	}
	id := derivedUUID("endpoint-pool", pid)
	poolIDs.Store(pid, id)
	return id
}

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

type paging struct {
	limit, offset int
	byUpdated     bool
	desc          bool
}

// parsePaging reads limit (0-1000, default 10), offset (>= 0), sort_key
// (created_at|updated_at) and sort_dir (asc|desc, default desc).
func parsePaging(q url.Values) (paging, *response) {
	fail := func(code, msg string) (paging, *response) {
		r := apiError(http.StatusBadRequest, code, msg)
		return paging{}, &r
	}
	pg := paging{limit: 10, desc: true}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 0 || n > 1000 {
			return fail("EndPoint.0006", "Invalid limit.")
		}
		pg.limit = n
	}
	if q.Has("offset") {
		n, err := strconv.Atoi(q.Get("offset"))
		if err != nil || n < 0 {
			return fail("EndPoint.0010", "Invalid offset.")
		}
		pg.offset = n
	}
	switch q.Get("sort_key") {
	case "", "created_at":
	case "updated_at":
		pg.byUpdated = true
	default:
		return fail("EndPoint.0017", "Invalid sort_key.")
	}
	switch strings.ToLower(q.Get("sort_dir")) {
	case "", "desc":
	case "asc":
		pg.desc = false
	default:
		return fail("EndPoint.0018", "Invalid sort_dir.")
	}
	return pg, nil
}

type listBody struct {
	Endpoints  []wireEndpoint `json:"endpoints"`
	TotalCount int            `json:"total_count"`
}

// list answers GET /v1/{pid}/vpc-endpoints.
func (s *Sim) list(pid string, q url.Values) response {
	pg, bad := parsePaging(q)
	if bad != nil {
		return *bad
	}
	id, vpc := q.Get("id"), strings.ToLower(q.Get("vpc_id"))
	name := strings.ToLower(q.Get("endpoint_service_name"))
	if vpc != "" && !isUUID(vpc) {
		return apiError(http.StatusBadRequest, "EndPoint.0020", "Invalid VPC ID.")
	}
	rd := s.renderer()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.now())
	all := s.project(pid).live()
	match := all
	if id != "" || vpc != "" || name != "" {
		match = nil
		for _, r := range all {
			if id != "" && r.ep.ID != id || vpc != "" && r.ep.VPCID != vpc ||
				name != "" && !strings.Contains(strings.ToLower(r.ep.EndpointServiceName), name) {
				continue
			}
			match = append(match, r)
		}
	}
	if pg.byUpdated {
		match = slices.Clone(match)
		slices.SortStableFunc(match, func(a, b *record) int { return a.ep.UpdatedAt.Compare(b.ep.UpdatedAt.Time) })
	} else if s.opts.Load().TieOrder == TieRandom {
		match = s.shuffleTies(match)
	}
	total := len(match)
	out := listBody{Endpoints: make([]wireEndpoint, 0, max(0, min(pg.limit, total-pg.offset))), TotalCount: total}
	for i := pg.offset; i < total && i < pg.offset+pg.limit; i++ {
		j := i
		if pg.desc {
			j = total - 1 - i
		}
		out.Endpoints = append(out.Endpoints, rd.render(match[j]))
	}
	return jsonResponse(http.StatusOK, out)
}

// shuffleTies returns rs (sorted by created_at) with each run of endpoints
// created in the same second in a fresh random order. Callers hold mu.
func (s *Sim) shuffleTies(rs []*record) []*record {
	out := slices.Clone(rs)
	for i := 0; i < len(out); {
		j := i + 1
		sec := out[i].ep.CreatedAt.Truncate(time.Second)
		for j < len(out) && out[j].ep.CreatedAt.Truncate(time.Second).Equal(sec) {
			j++
		}
		if j-i > 1 {
			run := out[i:j]
			s.rng.Shuffle(len(run), func(a, b int) { run[a], run[b] = run[b], run[a] })
		}
		i = j
	}
	return out
}

// get answers GET /v1/{pid}/vpc-endpoints/{id}.
func (s *Sim) get(pid, id string) response {
	rd := s.renderer()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.settle(now)
	r := s.project(pid).byID[id]
	if r == nil || now.Before(r.born.Add(s.opts.Load().GetLag)) {
		return notFound()
	}
	return jsonResponse(http.StatusOK, rd.render(r))
}

func notFound() response {
	return apiError(http.StatusNotFound, "EndPoint.2006", "The requested endpoint does not exist.")
}

// delete answers DELETE /v1/{pid}/vpc-endpoints/{id}: the endpoint turns
// deleting and is gone AcceptAfter later. The pages disagree on the success
// code (200 on the delete page, 204 in the status code table); both are sent.
func (s *Sim) delete(pid, id string) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Truncate(time.Millisecond)
	s.settle(now)
	r := s.project(pid).byID[id]
	switch {
	case r == nil:
		return notFound()
	case r.ep.Status == vpcep.StatusDeleting:
		return apiError(http.StatusBadRequest, "EndPoint.2018", "The endpoint is being deleted.")
	case r.ep.Status == vpcep.StatusCreating:
		return apiError(http.StatusBadRequest, "EndPoint.2019", "The endpoint is being created.")
	}
	r.ep.Status = vpcep.StatusDeleting
	r.ep.UpdatedAt = vpcep.Time{Time: now}
	r.goneAt = now.Add(s.opts.Load().AcceptAfter)
	s.schedule(pid, r)
	if s.chance(0.5) {
		return response{status: http.StatusOK}
	}
	return response{status: http.StatusNoContent}
}

type tagActionBody struct {
	Action string      `json:"action"`
	Tags   []vpcep.Tag `json:"tags"`
}

// tagAction answers POST /v1/{pid}/{resource_type}/{id}/tags/action.
func (s *Sim) tagAction(pid, rtype, id string, body []byte) response {
	switch rtype {
	case "endpoint":
	case "endpoint_service":
		return apiError(http.StatusNotFound, "EndPoint.0005", "The requested resource does not exist.")
	default:
		return apiError(http.StatusBadRequest, "EndPoint.3070", "Invalid resource type.")
	}
	var req tagActionBody
	if err := json.Unmarshal(body, &req); err != nil {
		return apiError(http.StatusBadRequest, "EndPoint.1004", "Invalid request.")
	}
	if req.Action != "create" && req.Action != "delete" {
		return apiError(http.StatusBadRequest, "EndPoint.0007", "Invalid action.")
	}
	if len(req.Tags) == 0 {
		return apiError(http.StatusBadRequest, "EndPoint.3066", "The tag cannot be empty.")
	}
	if req.Action == "create" {
		if bad := validateTags(req.Tags); bad != nil {
			return *bad
		}
	} else {
		for _, t := range req.Tags {
			if t.Key == "" {
				return apiError(http.StatusBadRequest, "EndPoint.3066", "The tag cannot be empty.")
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Truncate(time.Millisecond)
	s.settle(now)
	r := s.project(pid).byID[id]
	if r == nil {
		return notFound()
	}
	if r.ep.Status == vpcep.StatusDeleting {
		return apiError(http.StatusBadRequest, "EndPoint.2018", "The endpoint is being deleted.")
	}
	tags := slices.Clone(r.ep.Tags)
	for _, t := range req.Tags {
		i := slices.IndexFunc(tags, func(x vpcep.Tag) bool { return x.Key == t.Key })
		switch {
		case req.Action == "create" && i >= 0:
			tags[i].Value = t.Value
		case req.Action == "create":
			tags = append(tags, t)
		case i >= 0 && (t.Value == "" || tags[i].Value == t.Value):
			tags = slices.Delete(tags, i, i+1)
		}
	}
	if len(tags) > maxTags {
		return apiError(http.StatusBadRequest, "EndPoint.3069", "The maximum number of tags has been reached.")
	}
	r.ep.Tags = tags
	r.ep.UpdatedAt = vpcep.Time{Time: now}
	return response{status: http.StatusNoContent}
}

// flexInt is a number sent as a JSON number or string ("limit": "1000").
type flexInt struct {
	set bool
	ok  bool
	n   int
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	f.set = true
	s := strings.Trim(string(b), `"`)
	n, err := strconv.Atoi(s)
	f.n, f.ok = n, err == nil
	return nil
}

type tagValues struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

type tagFilterBody struct {
	Action     string      `json:"action"`
	Tags       []tagValues `json:"tags"`
	TagsAny    []tagValues `json:"tags_any"`
	NotTags    []tagValues `json:"not_tags"`
	NotTagsAny []tagValues `json:"not_tags_any"`
	Limit      flexInt     `json:"limit"`
	Offset     flexInt     `json:"offset"`
	Matches    []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"matches"`
}

type resourceInstance struct {
	ResourceID   string      `json:"resource_id"`
	ResourceName string      `json:"resource_name"`
	Tags         []vpcep.Tag `json:"tags"`
}

// tagFilter answers POST /v1/{pid}/{resource_type}/resource_instances/action
// (action filter or count), as the tag management service defines it: keys
// of tags are ANDed and their values ORed, tags_any ORs keys, not_tags and
// not_tags_any exclude; an empty values list matches any value.
func (s *Sim) tagFilter(pid, rtype string, body []byte) response {
	if rtype != "endpoint" && rtype != "endpoint_service" {
		return apiError(http.StatusBadRequest, "EndPoint.3070", "Invalid resource type.")
	}
	var req tagFilterBody
	if err := json.Unmarshal(body, &req); err != nil {
		return apiError(http.StatusBadRequest, "EndPoint.1004", "Invalid request.")
	}
	if req.Action != "filter" && req.Action != "count" {
		return apiError(http.StatusBadRequest, "EndPoint.0007", "Invalid action.")
	}
	for _, list := range [][]tagValues{req.Tags, req.TagsAny, req.NotTags, req.NotTagsAny} {
		if len(list) > 10 {
			return apiError(http.StatusBadRequest, "EndPoint.0002", "Parameter error.")
		}
		for _, tv := range list {
			if tv.Key == "" || len(tv.Values) > 10 {
				return apiError(http.StatusBadRequest, "EndPoint.0002", "Parameter error.")
			}
		}
	}
	for _, m := range req.Matches {
		if m.Key != "resource_name" && m.Key != "resource_id" {
			return apiError(http.StatusBadRequest, "EndPoint.0002", "Parameter error.")
		}
	}
	limit, offset := 1000, 0
	if req.Limit.set {
		if !req.Limit.ok || req.Limit.n < 1 || req.Limit.n > 1000 {
			return apiError(http.StatusBadRequest, "EndPoint.0006", "Invalid limit.")
		}
		limit = req.Limit.n
	}
	if req.Offset.set {
		if !req.Offset.ok || req.Offset.n < 0 {
			return apiError(http.StatusBadRequest, "EndPoint.0010", "Invalid offset.")
		}
		offset = req.Offset.n
	}

	var resources []resourceInstance
	total := 0
	if rtype == "endpoint" {
		s.mu.Lock()
		s.settle(s.now())
		for _, r := range s.project(pid).live() {
			if !matchTags(r.ep.ID, r.ep.Tags, &req) {
				continue
			}
			if req.Action == "filter" && total >= offset && total < offset+limit {
				tags := r.ep.Tags
				if tags == nil {
					tags = []vpcep.Tag{}
				}
				resources = append(resources, resourceInstance{ResourceID: r.ep.ID, ResourceName: r.ep.ID, Tags: tags})
			}
			total++
		}
		s.mu.Unlock()
	}
	if req.Action == "count" {
		return jsonResponse(http.StatusOK, struct {
			TotalCount int `json:"total_count"`
		}{total})
	}
	if resources == nil {
		resources = []resourceInstance{}
	}
	return jsonResponse(http.StatusOK, struct {
		Resources  []resourceInstance `json:"resources"`
		TotalCount int                `json:"total_count"`
	}{resources, total})
}

func matchTags(id string, tags []vpcep.Tag, req *tagFilterBody) bool {
	has := func(tv tagValues) bool {
		for _, t := range tags {
			if t.Key == tv.Key && (len(tv.Values) == 0 || slices.Contains(tv.Values, t.Value)) {
				return true
			}
		}
		return false
	}
	for _, tv := range req.Tags {
		if !has(tv) {
			return false
		}
	}
	if len(req.TagsAny) > 0 && !slices.ContainsFunc(req.TagsAny, has) {
		return false
	}
	if len(req.NotTags) > 0 {
		all := true
		for _, tv := range req.NotTags {
			all = all && has(tv)
		}
		if all {
			return false
		}
	}
	if slices.ContainsFunc(req.NotTagsAny, has) {
		return false
	}
	for _, m := range req.Matches {
		switch m.Key {
		case "resource_id":
			if id != m.Value {
				return false
			}
		case "resource_name": // endpoints have no name: it is their id
			if m.Value == "" || !strings.Contains(strings.ToLower(id), strings.ToLower(m.Value)) {
				return false
			}
		}
	}
	return true
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func isIPv4OrCIDR(s string) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Is4()
	}
	p, err := netip.ParsePrefix(s)
	return err == nil && p.Addr().Is4()
}
