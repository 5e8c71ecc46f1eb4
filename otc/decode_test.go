package otc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// Bodies from the reference pages in ../shared/api/ (the docs' examples),
// and variants with the quirks real responses have.
const (
	// querying_details_about_a_vpc_endpoint.rst, interface endpoint.
	docsGetInterface = `{
 "id": "530d6f2f-d115-4df2-8c36-32d19f3c0bbc",
 "status": "accepted",
 "ip": "192.168.14.23",
 "tags": [{"key": "test2", "value": "test2"}],
 "whitelist": [],
 "marker_id": 201515772,
 "active_status": ["active"],
 "vpc_id": "d7b2bf07-1b4c-43fa-bd88-d80c6ebea140",
 "service_type": "interface",
 "project_id": "0df25bbc878***2f88c00c2959df9a",
 "subnet_id": "61881173-3899-4981-a700-170253d469b6",
 "enable_dns": false,
 "routetables": [],
 "created_at": "2024-08-23T07:37:37Z",
 "updated_at": "2024-08-23T07:37:39Z",
 "endpoint_service_id": "2da0fe8f-5cb7-4d93-bb35-dc05334da1be",
 "endpoint_service_name": "test456",
 "enable_whitelist": false,
 "specification_name": "default",
 "enable_status": "enable",
 "description": "",
 "endpoint_pool_id": "0e796c11-6cf1-484a-9b8c-f837cb925287"
}`
	// querying_details_about_a_vpc_endpoint.rst, gateway endpoint.
	docsGetGateway = `{
 "id": "59a40a87-abe0-4c1f-8bf0-63700128cb39",
 "status": "accepted",
 "tags": [],
 "marker_id": 201421455,
 "active_status": ["active"],
 "vpc_id": "4cbf8757-86d1-459a-a7db-0fac9c1f679f",
 "service_type": "gateway",
 "project_id": "0df25bbc878***f88c00c2959df9a",
 "routetables": ["6416b1df-bbe8-4e51-8fa3-4d169b8cc3aa"],
 "created_at": "2024-08-13T06:56:41Z",
 "updated_at": "2024-08-13T06:56:47Z",
 "endpoint_service_id": "e4a21a61-f09e-41bc-b487-23d6204ae27b",
 "endpoint_service_name": "test123",
 "policy_statement": [{"Action": ["*"], "Resource": ["*"], "Effect": "Allow"}],
 "specification_name": "default",
 "enable_status": "enable",
 "description": "",
 "endpoint_pool_id": "d86778c4-ad4b-4abd-988e-8c2572047fe4"
}`
	// querying_vpc_endpoints.rst.
	docsList = `{
 "endpoints": [` + docsGetGateway + `,` + docsGetInterface + `],
 "total_count": 2
}`
	// Older shape: active_status a string, booleans as strings, update_at,
	// timestamps without zone with milliseconds, an error entry.
	legacyEndpoint = `{
 "id": "4189d3c2-8882-4871-a3c2-d380272eed83",
 "status": "failed",
 "active_status": "active",
 "marker_id": 322312312312,
 "vpc_id": "84758cf5-9c62-43ae-a778-3dbd8370c0a4",
 "service_type": "interface",
 "enable_dns": "true",
 "enable_whitelist": "false",
 "created_at": "2018-01-30T07:42:01.174",
 "update_at": "2018-01-30T07:42:05",
 "error": [{"error_code": "EndPoint.2022", "error_message": "Failed to create an endpoint."}],
 "some_future_field": {"nested": [1, 2, 3]}
}`
	// querying_basic_information_about_a_vpc_endpoint_service.rst.
	docsDescribe = `{
  "id": "9d4c1028-1336-4556-9881-b5d807c1b8a8",
  "service_name": "test123",
  "service_type": "interface",
  "created_at": "2018-09-17T07:28:31Z",
  "is_charge": "true"
}`
	// querying_the_quota.rst.
	docsQuota = `{
"quotas":{
     "resources":[
                 {"type":"endpoint", "used":4, "quota":150},
                 {"type":"endpoint_service", "used":10, "quota": 100}
              ]
        }
}`
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// serveBody answers every request with status and body, and records the
// first request line in got.
func serveBody(status int, body string, got *string) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got != nil {
			once.Do(func() { *got = r.Method + " " + r.URL.RequestURI() })
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	})
}

func TestDecodeEndpoints(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		call     func(context.Context, *otc.Client) ([]vpcep.Endpoint, error)
		wantReq  string
		wantLen  int
		check    func(t *testing.T, eps []vpcep.Endpoint)
		checkErr func(t *testing.T, err error)
	}{
		{
			name:    "get interface (docs)",
			body:    docsGetInterface,
			call:    getOne("530d6f2f-d115-4df2-8c36-32d19f3c0bbc"),
			wantReq: "GET /v1/" + testPID + "/vpc-endpoints/530d6f2f-d115-4df2-8c36-32d19f3c0bbc",
			wantLen: 1,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				e := eps[0]
				want(t, "id", e.ID, "530d6f2f-d115-4df2-8c36-32d19f3c0bbc")
				want(t, "status", e.Status, vpcep.StatusAccepted)
				want(t, "active_status", strings.Join(e.ActiveStatus, ","), "active")
				want(t, "marker_id", e.MarkerID, int64(201515772))
				want(t, "ip", e.IP, "192.168.14.23")
				want(t, "enable_dns", bool(e.EnableDNS), false)
				want(t, "created_at", e.CreatedAt.Time, utc("2024-08-23T07:37:37Z"))
				want(t, "updated_at", e.UpdatedAt.Time, utc("2024-08-23T07:37:39Z"))
				want(t, "tag", tagValue(e, "test2"), "test2")
			},
		},
		{
			name:    "get gateway (docs)",
			body:    docsGetGateway,
			call:    getOne("59a40a87-abe0-4c1f-8bf0-63700128cb39"),
			wantLen: 1,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				e := eps[0]
				want(t, "service_type", e.ServiceType, vpcep.ServiceGateway)
				want(t, "routetables", strings.Join(e.RouteTables, ","), "6416b1df-bbe8-4e51-8fa3-4d169b8cc3aa")
				want(t, "policy effect", e.PolicyStatement[0].Effect, "Allow")
				want(t, "tags", len(e.Tags), 0)
			},
		},
		{
			name:    "list (docs)",
			body:    docsList,
			call:    listAll,
			wantReq: "GET /v1/" + testPID + "/vpc-endpoints?limit=1000&offset=0&sort_dir=asc&sort_key=created_at",
			wantLen: 2,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				want(t, "first", eps[0].ID, "59a40a87-abe0-4c1f-8bf0-63700128cb39")
				want(t, "second", eps[1].ID, "530d6f2f-d115-4df2-8c36-32d19f3c0bbc")
			},
		},
		{
			name:    "create response (SDK fixture): marker_id beyond int32, time without zone",
			body:    fixture(t, "vpcep_endpoint_create_response.json"),
			call:    createOne,
			wantReq: "POST /v1/" + testPID + "/vpc-endpoints",
			wantLen: 1,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				e := eps[0]
				want(t, "marker_id", e.MarkerID, int64(322312312312))
				want(t, "status", e.Status, vpcep.StatusCreating)
				want(t, "enable_dns", bool(e.EnableDNS), true)
				want(t, "created_at", e.CreatedAt.Time, utc("2018-01-30T07:42:01.174Z"))
				want(t, "updated_at", e.UpdatedAt.Time, utc("2018-01-30T07:42:01.174Z"))
			},
		},
		{
			// The fixture answers a default query (newest first, a page
			// of a larger list); here it is the whole list, oldest first.
			name:    "list (SDK fixture): dns_name",
			body:    ascendingWhole(t, fixture(t, "vpcep_endpoints_list_response.json")),
			call:    listAll,
			wantLen: 2,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				want(t, "whitelist", strings.Join(eps[1].Whitelist, ","), "127.0.0.1")
				want(t, "enable_whitelist", bool(eps[1].EnableWhitelist), true)
				want(t, "marker_id", eps[0].MarkerID, int64(16777322))
			},
		},
		{
			name:    "older shape: string active_status and booleans, update_at, error list, unknown fields",
			body:    legacyEndpoint,
			call:    getOne("4189d3c2-8882-4871-a3c2-d380272eed83"),
			wantLen: 1,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				e := eps[0]
				want(t, "active_status", strings.Join(e.ActiveStatus, ","), "active")
				want(t, "enable_dns", bool(e.EnableDNS), true)
				want(t, "enable_whitelist", bool(e.EnableWhitelist), false)
				want(t, "marker_id", e.MarkerID, int64(322312312312))
				want(t, "created_at", e.CreatedAt.Time, utc("2018-01-30T07:42:01.174Z"))
				want(t, "updated_at (from update_at)", e.UpdatedAt.Time, utc("2018-01-30T07:42:05Z"))
				if len(e.Error) != 1 {
					t.Fatalf("error list = %v, want one entry", e.Error)
				}
				want(t, "error code", e.Error[0].ErrorCode, "EndPoint.2022")
				want(t, "error message", e.Error[0].ErrorMessage, "Failed to create an endpoint.")
			},
		},
		{
			name: "timestamps: zone offset, nanoseconds, space separator, null",
			body: `{"id":"a","created_at":"2024-08-23T09:37:37.123456789+02:00","updated_at":"2024-08-23 07:37:39","active_status":null,"enable_dns":null}`,
			call: getOne("a"), wantLen: 1,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				want(t, "created_at", eps[0].CreatedAt.Time, utc("2024-08-23T07:37:37.123456789Z"))
				want(t, "updated_at", eps[0].UpdatedAt.Time, utc("2024-08-23T07:37:39Z"))
				want(t, "active_status", len(eps[0].ActiveStatus), 0)
			},
		},
		{
			name: "updated_at wins over update_at",
			body: `{"id":"a","updated_at":"2024-01-01T00:00:00Z","update_at":"2020-01-01T00:00:00Z"}`,
			call: getOne("a"), wantLen: 1,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				want(t, "updated_at", eps[0].UpdatedAt.Time, utc("2024-01-01T00:00:00Z"))
			},
		},
		{
			name: "active_status as a list of several",
			body: `{"id":"a","active_status":["arrear_frozen","verify_frozen"]}`,
			call: getOne("a"), wantLen: 1,
			check: func(t *testing.T, eps []vpcep.Endpoint) {
				want(t, "active_status", strings.Join(eps[0].ActiveStatus, ","), "arrear_frozen,verify_frozen")
			},
		},
		{name: "malformed: not JSON", body: `{"id": "a",`, call: getOne("a"), checkErr: wantResponseError(otc.OpGet, 200)},
		{name: "malformed: list where an object belongs", body: `[]`, call: getOne("a"), checkErr: wantResponseError(otc.OpGet, 200)},
		{name: "malformed: boolean that is not one", body: `{"id":"a","enable_dns":"maybe"}`, call: getOne("a"), checkErr: wantResponseError(otc.OpGet, 200)},
		{name: "malformed: timestamp", body: `{"id":"a","created_at":"yesterday"}`, call: getOne("a"), checkErr: wantResponseError(otc.OpGet, 200)},
		{name: "malformed: number for a string", body: `{"id":5}`, call: getOne("a"), checkErr: wantResponseError(otc.OpGet, 200)},
		{name: "malformed list page", body: `{"endpoints": {}, "total_count": 1}`, call: listAll, checkErr: wantResponseError(otc.OpList, 200)},
		{name: "malformed create answer is ambiguous", body: `<html>created</html>`, call: createOne, checkErr: func(t *testing.T, err error) {
			wantResponseError(otc.OpCreate, 200)(t, err)
			if !otc.IsAmbiguous(err) {
				t.Errorf("IsAmbiguous(%v) = false, want true: the endpoint may exist", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			c, _ := tokenClient(t, serveBody(http.StatusOK, tt.body, &got))
			eps, err := tt.call(t.Context(), c)
			if tt.checkErr != nil {
				tt.checkErr(t, err)
				return
			}
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if tt.wantReq != "" && got != tt.wantReq {
				t.Errorf("request = %q, want %q", got, tt.wantReq)
			}
			if len(eps) != tt.wantLen {
				t.Fatalf("got %d endpoints, want %d", len(eps), tt.wantLen)
			}
			tt.check(t, eps)
		})
	}
}

func getOne(id string) func(context.Context, *otc.Client) ([]vpcep.Endpoint, error) {
	return func(ctx context.Context, c *otc.Client) ([]vpcep.Endpoint, error) {
		e, err := c.GetEndpoint(ctx, id)
		if err != nil {
			return nil, err
		}
		return []vpcep.Endpoint{*e}, nil
	}
}

// ascendingWhole turns a list body into the whole list in the order
// vpcepctl asks for: endpoints reversed (the body is newest first) and
// total_count the number of endpoints.
func ascendingWhole(t *testing.T, body string) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	eps := doc["endpoints"].([]any)
	slices.Reverse(eps)
	doc["total_count"] = len(eps)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func listAll(ctx context.Context, c *otc.Client) ([]vpcep.Endpoint, error) {
	return c.ListEndpoints(ctx, otc.ListOptions{})
}

func createOne(ctx context.Context, c *otc.Client) ([]vpcep.Endpoint, error) {
	e, _, err := c.CreateEndpoint(ctx, &vpcep.CreateEndpointRequest{
		EndpointServiceID: "e0c748b7-d982-47df-ba06-b9c8c7650c1a", VPCID: "84758cf5-9c62-43ae-a778-3dbd8370c0a4",
	})
	if err != nil {
		return nil, err
	}
	return []vpcep.Endpoint{*e}, nil
}

func tagValue(e vpcep.Endpoint, key string) string {
	v, _ := e.TagValue(key)
	return v
}

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantResponseError checks that err is a *ResponseError naming op and
// status in its text.
func wantResponseError(op string, status int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var re *otc.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("error = %v (%T), want *otc.ResponseError", err, err)
		}
		if re.Op != op || re.Status != status {
			t.Errorf("ResponseError{Op: %q, Status: %d}, want %q, %d", re.Op, re.Status, op, status)
		}
		if prefix := fmt.Sprintf("%s: HTTP %d ", op, status); !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("error text %q does not name the operation and status", err)
		}
	}
}

func TestDecodeServicesAndQuota(t *testing.T) {
	t.Run("describe (docs): is_charge as a string", func(t *testing.T) {
		var got string
		c, _ := tokenClient(t, serveBody(http.StatusOK, docsDescribe, &got))
		s, err := c.DescribeService(t.Context(), "9d4c1028-1336-4556-9881-b5d807c1b8a8", "")
		if err != nil {
			t.Fatal(err)
		}
		want(t, "request", got, "GET /v1/"+testPID+"/vpc-endpoint-services/describe?id=9d4c1028-1336-4556-9881-b5d807c1b8a8")
		want(t, "service_type", s.ServiceType, vpcep.ServiceInterface)
		want(t, "is_charge", bool(s.IsCharge), true)
		want(t, "created_at", s.CreatedAt.Time, utc("2018-09-17T07:28:31Z"))
	})
	t.Run("describe by name", func(t *testing.T) {
		var got string
		c, _ := tokenClient(t, serveBody(http.StatusOK, docsDescribe, &got))
		if _, err := c.DescribeService(t.Context(), "", "com.t-systems.otc.eu-de.obs"); err != nil {
			t.Fatal(err)
		}
		want(t, "request", got, "GET /v1/"+testPID+"/vpc-endpoint-services/describe?endpoint_service_name=com.t-systems.otc.eu-de.obs")
	})
	t.Run("quota (docs)", func(t *testing.T) {
		var got string
		c, _ := tokenClient(t, serveBody(http.StatusOK, docsQuota, &got))
		q, err := c.EndpointQuota(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want(t, "request", got, "GET /v1/"+testPID+"/quotas?type=endpoint")
		want(t, "quota", *q, vpcep.Quota{Type: "endpoint", Used: 4, Quota: 150})
	})
	t.Run("quota without the endpoint entry", func(t *testing.T) {
		c, _ := tokenClient(t, serveBody(http.StatusOK, `{"quotas":{"resources":[]}}`, nil))
		if _, err := c.EndpointQuota(t.Context()); err == nil {
			t.Fatal("EndpointQuota succeeded without an endpoint entry")
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		wantCode  string
		wantMsg   string
		wantReqID string
		wantClass otc.Class
		notFound  bool
		quota     bool
	}{
		{name: "docs error format", status: 400, body: `{"error_code": "EndPoint.0002", "error_msg": "Parameter error."}`,
			wantCode: "EndPoint.0002", wantMsg: "Parameter error.", wantClass: otc.Permanent},
		{name: "quota Endpoint.1018", status: 400, body: `{"error_code":"Endpoint.1018","error_msg":"Quota exceeded."}`,
			wantCode: "Endpoint.1018", wantMsg: "Quota exceeded.", wantClass: otc.Permanent, quota: true},
		{name: "quota spelled EndPoint.1018", status: 400, body: `{"error_code":"EndPoint.1018","error_msg":"Quota exceeded."}`,
			wantCode: "EndPoint.1018", wantMsg: "Quota exceeded.", wantClass: otc.Permanent, quota: true},
		{name: "throttled spelled Endpoint.0022", status: 400, body: `{"error_code":"Endpoint.0022","error_msg":"The number of requests exceeded the limit."}`,
			wantCode: "Endpoint.0022", wantMsg: "The number of requests exceeded the limit.", wantClass: otc.Throttled},
		{name: "error_message instead of error_msg", status: 400, body: `{"error_code":"EndPoint.2044","error_message":"Invalid whitelist."}`,
			wantCode: "EndPoint.2044", wantMsg: "Invalid whitelist.", wantClass: otc.Permanent},
		{name: "not found", status: 404, header: http.Header{"X-Request-Id": {"req-404"}}, body: `{"error_code":"EndPoint.2006","error_msg":"The requested endpoint does not exist."}`,
			wantCode: "EndPoint.2006", wantMsg: "The requested endpoint does not exist.", wantReqID: "req-404", wantClass: otc.Permanent, notFound: true},
		{name: "API gateway 429 with request_id in the body", status: 429, body: `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached","request_id":"gw-1"}`,
			wantCode: "APIGW.0308", wantMsg: "The throttling threshold has been reached", wantReqID: "gw-1", wantClass: otc.Throttled},
		{name: "IAM error document", status: 403, body: `{"error":{"code":403,"title":"Forbidden","message":"You are not authorized."}}`,
			wantMsg: "You are not authorized.", wantClass: otc.Permanent},
		{name: "HTML from a proxy", status: 502, body: `<html><body>Bad Gateway</body></html>`,
			wantMsg: "unreadable error body (37 bytes)", wantClass: otc.ServerError},
		{name: "empty 503", status: 503, wantClass: otc.ServerError},
		{name: "501 is permanent", status: 501, body: `{"error_code":"X","error_msg":"no"}`, wantCode: "X", wantMsg: "no", wantClass: otc.Permanent},
		{name: "numeric code", status: 400, body: `{"code": 1234, "message": "odd"}`, wantCode: "1234", wantMsg: "odd", wantClass: otc.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			c, _ := tokenClient(t, h, func(o *otc.Options) { o.MaxRetries = 0 })
			_, err := c.GetEndpoint(t.Context(), "e")
			var ae *otc.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v (%T), want *otc.APIError", err, err)
			}
			want(t, "Status", ae.Status, tt.status)
			want(t, "Op", ae.Op, otc.OpGet)
			want(t, "Code", ae.Code, tt.wantCode)
			want(t, "Message", ae.Message, tt.wantMsg)
			want(t, "RequestID", ae.RequestID, tt.wantReqID)
			want(t, "Classify", otc.Classify(err), tt.wantClass)
			want(t, "IsNotFound", otc.IsNotFound(err), tt.notFound)
			want(t, "IsQuotaExceeded", otc.IsQuotaExceeded(err), tt.quota)
			if !strings.HasPrefix(err.Error(), "get: HTTP ") {
				t.Errorf("error text %q does not start with the operation and status", err)
			}
		})
	}
}
