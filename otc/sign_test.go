package otc_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestSignVectors checks Sign against fixed vectors. The expected
// Authorization headers were computed once, independently of this package,
// by a short Python script written from the SDK-HMAC-SHA256 description
// (hashlib/hmac; canonical request = METHOD, URI with each segment
// RFC 3986-escaped and a trailing "/", sorted escaped query, "name:value\n"
// per signed header, signed header names, hex SHA-256 of the body; string
// to sign = "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex SHA-256 of the
// canonical request), and pasted here.
func TestSignVectors(t *testing.T) {
	date := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name    string
		method  string
		url     string
		header  map[string]string
		body    string
		ak, sk  string
		wantHdr string
	}{
		{
			name:   "list with query",
			method: "GET",
			url:    "https://vpcep.eu-de.otc.t-systems.com/v1/" + testPID + "/vpc-endpoints?sort_key=created_at&limit=1000&vpc_id=84758cf5-9c62-43ae-a778-3dbd8370c0a4&offset=0&sort_dir=asc",
			header: map[string]string{"X-Project-Id": testPID},
			ak:     "AKEXAMPLE0000000001", sk: "SKexample/secret+key==",
			wantHdr: "SDK-HMAC-SHA256 Access=AKEXAMPLE0000000001, SignedHeaders=host;x-project-id;x-sdk-date, " +
				"Signature=3495c11fb74988363fc2143d333c096fecd6508aa0fc4f2e58b33281b86cd70f",
		},
		{
			name:   "create with body and security token",
			method: "POST",
			url:    "https://vpcep.eu-de.otc.t-systems.com/v1/" + testPID + "/vpc-endpoints",
			header: map[string]string{"Content-Type": "application/json", "X-Project-Id": testPID, "X-Security-Token": "sec-token-example"},
			body: `{"endpoint_service_id":"2da0fe8f-5cb7-4d93-bb35-dc05334da1be","vpc_id":"84758cf5-9c62-43ae-a778-3dbd8370c0a4",` +
				`"subnet_id":"68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de","tags":[{"key":"vpcepctl-set","value":"payments"}]}`,
			ak: "AKEXAMPLE0000000001", sk: "SKexample/secret+key==",
			wantHdr: "SDK-HMAC-SHA256 Access=AKEXAMPLE0000000001, SignedHeaders=content-type;host;x-project-id;x-sdk-date;x-security-token, " +
				"Signature=c835d416d56e759d44479a5015a0f3e75d0b8a92173c6e30972d67f507bb51ec",
		},
		{
			name:   "trailing slash, repeated and escaped query, host with port",
			method: "GET",
			url:    "http://127.0.0.1:8787/v1/" + testPID + "/vpc-endpoint-services/describe/?endpoint_service_name=com.t-systems.otc.eu-de.obs&b=x%20y%2B~%2F&a=2&a=1",
			ak:     "AK2", sk: "sk2",
			wantHdr: "SDK-HMAC-SHA256 Access=AK2, SignedHeaders=host;x-sdk-date, " +
				"Signature=72f4508b93cac198e10f74ea829affc509f972b011bd37322dccf26c7112c492",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			otc.Sign(req, []byte(tt.body), tt.ak, tt.sk, date)
			want(t, "X-Sdk-Date", req.Header.Get("X-Sdk-Date"), "20250506T070809Z")
			want(t, "Authorization", req.Header.Get("Authorization"), tt.wantHdr)
		})
	}
}

// TestAKSKAgainstSimulator: the simulator verifies signatures on its own
// (sim/aksk.go is written from the scheme, not from Sign); every call the
// client makes must pass, and a wrong secret must not.
func TestAKSKAgainstSimulator(t *testing.T) {
	s := sim.New(sim.Options{PlainShapes: true})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	creds := otc.Credentials{AccessKey: sim.AccessKey, SecretKey: sim.SecretKey, SecurityToken: "temporary-security-token",
		ProjectID: sim.ProjectID, Region: sim.Region}
	c := newClient(t, fastOptions(creds, srv.URL))
	ctx := t.Context()
	e, _, err := c.CreateEndpoint(ctx, &vpcep.CreateEndpointRequest{EndpointServiceID: sim.ServiceInterfaceID,
		VPCID: "84758cf5-9c62-43ae-a778-3dbd8370c0a4", SubnetID: "68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de",
		Description: "needs escaping: äöü & = + /", Tags: []vpcep.Tag{{Key: "vpcepctl-set", Value: "payments"}}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := c.GetEndpoint(ctx, e.ID); err != nil {
		t.Fatalf("get: %v", err)
	}
	eps, err := c.ListEndpoints(ctx, otc.ListOptions{VPCID: "84758cf5-9c62-43ae-a778-3dbd8370c0a4"})
	if err != nil || len(eps) != 1 {
		t.Fatalf("list = %d endpoints, %v", len(eps), err)
	}
	if _, err := c.TagAction(ctx, e.ID, "create", []vpcep.Tag{{Key: "team", Value: "a@b"}}); err != nil {
		t.Fatalf("tag: %v", err)
	}
	if _, err := c.DescribeService(ctx, "", sim.ServiceOBSName); err != nil {
		t.Fatalf("describe: %v", err)
	}
	if _, err := c.EndpointQuota(ctx); err != nil {
		t.Fatalf("quota: %v", err)
	}
	if _, err := c.DeleteEndpoint(ctx, e.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}

	bad := creds
	bad.SecretKey = "not-the-secret"
	var logs bytes.Buffer
	opts := fastOptions(bad, srv.URL)
	opts.Logger = slogText(&logs)
	_, err = newClient(t, opts).GetEndpoint(ctx, e.ID)
	var ae *otc.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !ae.CodeIs(vpcep.CodeAuthFailed) {
		t.Fatalf("wrong secret: %v, want 401 EndPoint.0003", err)
	}
	for _, out := range []string{err.Error(), logs.String()} {
		if strings.Contains(out, bad.SecretKey) || strings.Contains(out, sim.SecretKey) {
			t.Errorf("secret key in %q", out)
		}
	}
}
