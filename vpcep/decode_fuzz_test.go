package vpcep

import (
	"strings"
	"testing"
)

// The decoders of every answer vpcepctl reads are fuzzed as the manifest
// loader is: they never panic, what they accept has what callers rely on,
// and their errors are one line that never repeats a value of the answer
// (the answer may echo a secret).

const fuzzSecret = "S3CR3T-"

func fuzzSeeds(f *testing.F, seeds ...string) {
	for _, s := range append(seeds, "", "{}", "[]", "null", `{"error_code":"EndPoint.0001","error_msg":"S3CR3T-x"}`,
		`{"id":"S3CR3T-1","created_at":"S3CR3T-2","enable_dns":"S3CR3T-3","active_status":{"S3CR3T-4":1}}`) {
		f.Add([]byte(s))
	}
}

func checkDecodeError(t *testing.T, data []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error of more than one line: %q", msg)
	}
	if strings.Contains(string(data), fuzzSecret) && strings.Contains(msg, fuzzSecret) {
		t.Errorf("error repeats a value of the answer: %q", msg)
	}
}

func FuzzDecodeList(f *testing.F) {
	fuzzSeeds(f, `{"endpoints":[],"total_count":0}`,
		`{"endpoints":[{"id":"a","created_at":"2024-08-23T07:37:37Z","active_status":"active","enable_dns":"true"}],"total_count":1}`,
		`{"endpoints":[{"id":""}],"total_count":1}`, `{"endpoints":{},"total_count":1}`, `{"endpoints":[],"total_count":-1}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := DecodeList(data)
		checkDecodeError(t, data, err)
		if err != nil {
			return
		}
		if l.Endpoints == nil || l.TotalCount < 0 {
			t.Fatalf("accepted %q as %+v", data, l)
		}
		for _, e := range l.Endpoints {
			if e.ID == "" {
				t.Fatalf("accepted an endpoint without id: %q", data)
			}
		}
	})
}

func FuzzDecodeEndpoint(f *testing.F) {
	fuzzSeeds(f, `{"id":"a","status":"creating","marker_id":322312312312,"created_at":"2018-01-30T07:42:01.174"}`,
		`{"id":"a","error":[{"error_code":"EndPoint.2022","error_message":"x"}],"update_at":"2018-01-30 07:42:05"}`, `{"id":5}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEndpoint(data)
		checkDecodeError(t, data, err)
		if err == nil && e.ID == "" {
			t.Fatalf("accepted an endpoint without id: %q", data)
		}
	})
}

func FuzzDecodeService(f *testing.F) {
	fuzzSeeds(f, `{"id":"s","service_name":"com.t-systems.otc.eu-de.obs","service_type":"gateway","is_charge":"false"}`, `{"id":"s"}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeService(data)
		checkDecodeError(t, data, err)
		if err == nil && (s.ID == "" || s.ServiceType == "") {
			t.Fatalf("accepted a service without id or type: %q", data)
		}
	})
}

func FuzzDecodeQuota(f *testing.F) {
	fuzzSeeds(f, `{"quotas":{"resources":[{"type":"endpoint_service","used":1,"quota":20},{"type":"endpoint","used":3,"quota":50}]}}`,
		`{"quotas":{}}`, `{"quotas":{"resources":[{"type":"endpoint","used":-1,"quota":50}]}}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := DecodeQuota(data)
		checkDecodeError(t, data, err)
		if err == nil && (q.Type != "endpoint" || q.Quota < 0 || q.Used < 0) {
			t.Fatalf("accepted %q as %+v", data, q)
		}
	})
}
