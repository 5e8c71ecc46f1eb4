// Package sim is an in-memory simulator of the Open Telekom Cloud VPC
// Endpoint (VPCEP) API v1 and of the IAM token API, with fault injection.
//
// It answers the same paths, bodies, status codes and error codes as the
// reference pages in ../shared/api/: password tokens (POST /v3/auth/tokens)
// and AK/SK request signing (SDK-HMAC-SHA256), creating, listing, reading and
// deleting VPC endpoints, the tag and tag-filter actions, endpoint service
// lookup, public services and quotas. Creates and deletes are asynchronous:
// status is derived from timestamps stored with each endpoint, so state
// written by Save and read by Load keeps settling where it left off.
//
// Responses carry the quirks real responses have (large marker_id, extra
// fields such as endpoint_pool_id, and on a seeded share of endpoints the
// older shapes: timestamps without zone, update_at, active_status as a
// string). Faults are set through Options and can change at run time
// (SetOptions): latency, throttling (429 with Retry-After, or 400
// EndPoint.0022), server errors without effect, lost responses after the
// change was committed, and endpoints that end in status failed.
//
// Handler serves everything on one http.Handler, including /metrics from the
// simulator's own Prometheus registry. Tests drive it through httptest;
// `vpcepctl sim` serves it on a port and prints Env for the OS_* variables.
//
// Policy: sim imports nothing of the project but the wire types of package
// otc, so both sides of every test speak the same JSON.
package sim
