package sim

import (
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the routes that read and delete VPC endpoints: list
// (paging, filters, the order of created_at ties), get and delete, with the
// error codes of the reference pages. create.go creates, tags.go tags,
// render.go renders.

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

// project id -> endpoint_pool_id

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
