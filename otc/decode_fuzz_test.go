package otc

import (
	"strings"
	"testing"
)

// FuzzDecodeToken fuzzes the IAM token answer's decoder as the VPCEP
// documents' are (see package vpcep): it never panics, and its errors are
// one line that never repeats a value of the answer.
func FuzzDecodeToken(f *testing.F) {
	seeds(f, `{"token":{"expires_at":"2024-01-01T00:00:00.000000Z","project":{"id":"p","name":"eu-de_x"},"catalog":[{"type":"vpcep","endpoints":[{"interface":"public","region":"eu-de","url":"https://vpcep.eu-de.otc.t-systems.com/v1/p"}]}]}}`,
		`{"token":null}`, `{"token":{"catalog":{}}}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := decodeToken(data)
		checkError(t, data, err)
		if err == nil && tr == nil {
			t.Fatalf("accepted %q as nothing", data)
		}
	})
}

func seeds(f *testing.F, ss ...string) {
	for _, s := range append(ss, "", "{}", "[]", "null", `{"token":{"expires_at":"S3CR3T-1","catalog":"S3CR3T-2"}}`) {
		f.Add([]byte(s))
	}
}

func checkError(t *testing.T, data []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(string(data), "S3CR3T-") && strings.Contains(msg, "S3CR3T-") {
		t.Errorf("error %q: more than one line, or repeats a value of the answer", msg)
	}
}
