package otc

import (
	"context"
	"errors"
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

// OwnsService reports whether the project owns the endpoint service id
// (its provider side answers: GET /vpc-endpoint-services/{id}); a project
// that does not own it is told it does not exist (EndPoint.2003, or 404).
func (c *Client) OwnsService(ctx context.Context, id string) (bool, error) {
	err := c.do(ctx, OpService, http.MethodGet, "/vpc-endpoint-services/"+url.PathEscape(id), nil, nil, nil)
	var ae *APIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ae) && (ae.NotFound() || ae.CodeIs(vpcep.CodeNoService)):
		return false, nil
	}
	return false, err
}

// AcceptConnection accepts the connection of endpoint endpointID to the
// service serviceID, which the project owns. A connection accepted
// already (an earlier attempt whose answer was lost) is no error.
func (c *Client) AcceptConnection(ctx context.Context, serviceID, endpointID string) (attempts int, err error) {
	body := struct {
		Endpoints []string `json:"endpoints"`
		Action    string   `json:"action"`
	}{[]string{endpointID}, "receive"}
	decode := func(data []byte) error { _, err := vpcep.DecodeConnections(data); return err }
	n, err := c.doN(ctx, OpApprove, http.MethodPost, "/vpc-endpoint-services/"+url.PathEscape(serviceID)+"/connections/action", nil, body, decode)
	var ae *APIError
	if errors.As(err, &ae) && ae.CodeIs(vpcep.CodeConnected) {
		return n, nil
	}
	return n, err
}
