package otc

import (
	"context"
	"net/http"
	"net/url"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the VPCEP calls vpcepctl makes, one method per call.
// Each decodes its answer strictly (package vpcep): a success answer that
// is not the document of the call is an error, never an empty result.

// GetEndpoint returns one endpoint; a missing one is an *APIError with
// NotFound() true.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*vpcep.Endpoint, error) {
	var e *vpcep.Endpoint
	if err := c.do(ctx, OpGet, http.MethodGet, "/vpc-endpoints/"+url.PathEscape(id), nil, nil, into(&e, vpcep.DecodeEndpoint)); err != nil {
		return nil, err
	}
	return e, nil
}

// CreateEndpoint sends one create. It is not idempotent, so the client
// never resends it once it may have reached the API: when the error is
// Ambiguous (IsAmbiguous: a timeout, a reset or a 5xx after the request was
// written, or an unreadable success answer), the endpoint may exist, and
// the caller must look for it (by VPC and name tag) before sending it
// again. Throttled answers and failures before sending are retried here.
// attempts counts the HTTP attempts made (throttled ones included).
func (c *Client) CreateEndpoint(ctx context.Context, in *vpcep.CreateEndpointRequest) (e *vpcep.Endpoint, attempts int, err error) {
	n, err := c.doN(ctx, OpCreate, http.MethodPost, "/vpc-endpoints", nil, in, into(&e, vpcep.DecodeEndpoint))
	if err != nil {
		return nil, n, err
	}
	return e, n, nil
}

// DeleteEndpoint deletes one endpoint (asynchronously: it goes to status
// deleting, then GET answers 404). Deleting a missing endpoint is an
// *APIError with NotFound() true. attempts counts the HTTP attempts made
// (retries included), as CreateEndpoint does.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) (attempts int, err error) {
	return c.doN(ctx, OpDelete, http.MethodDelete, "/vpc-endpoints/"+url.PathEscape(id), nil, nil, nil)
}

// TagAction adds (action "create") or removes (action "delete") tags.
// attempts counts the HTTP attempts made (retries included).
func (c *Client) TagAction(ctx context.Context, id, action string, tags []vpcep.Tag) (attempts int, err error) {
	body := struct {
		Action string      `json:"action"`
		Tags   []vpcep.Tag `json:"tags"`
	}{action, tags}
	return c.doN(ctx, OpTag, http.MethodPost, "/endpoint/"+url.PathEscape(id)+"/tags/action", nil, body, nil)
}

// DescribeService resolves an endpoint service by id or by name.
func (c *Client) DescribeService(ctx context.Context, id, name string) (*vpcep.Service, error) {
	q := map[string]string{}
	if id != "" {
		q["id"] = id
	}
	if name != "" {
		q["endpoint_service_name"] = name
	}
	var s *vpcep.Service
	if err := c.do(ctx, OpService, http.MethodGet, "/vpc-endpoint-services/describe", q, nil, into(&s, vpcep.DecodeService)); err != nil {
		return nil, err
	}
	return s, nil
}

// EndpointQuota returns the endpoint quota of the project.
func (c *Client) EndpointQuota(ctx context.Context) (*vpcep.Quota, error) {
	var q *vpcep.Quota
	if err := c.do(ctx, OpQuota, http.MethodGet, "/quotas", map[string]string{"type": "endpoint"}, nil, into(&q, vpcep.DecodeQuota)); err != nil {
		return nil, err
	}
	return q, nil
}
