package sim

// This file answers the tag action and the tag filter of the tag
// management service.

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

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
