package otc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// This file holds the checks that make an answer usable: a success answer
// must be the document its operation returns, or it is an error, never an
// empty result. A list answer is an object with an endpoints array and a
// total_count; an endpoint (create, get) has an id; a service has an id
// and a type; a quota answer has the endpoint quota. Policy: lenient about
// what the docs leave open (unknown fields, the shapes types.go reads),
// strict about what the caller relies on. Errors name the document and the
// field, never a value from the answer (it may echo a secret).

// errNotDocument is the cause of a ResponseError for an answer that is not
// the document its operation returns.
var errNotDocument = errors.New("not the expected document")

// notDocument says what the answer lacks.
func notDocument(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNotDocument, fmt.Sprintf(format, args...))
}

// decodeObject unmarshals data, which must be a JSON object, into out. A
// body that carries an error document with a 2xx status is named as such.
func decodeObject(what string, data []byte, out any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return notDocument("empty body, want %s", what)
	}
	if data[0] != '{' {
		return notDocument("want %s (a JSON object)", what)
	}
	var probe struct {
		ErrorCode string `json:"error_code"`
	}
	if json.Unmarshal(data, &probe) == nil && probe.ErrorCode != "" {
		return notDocument("an error document (%s) with a success status", printable(probe.ErrorCode))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return notDocument("%s: %s", what, describeJSONError(err))
	}
	return nil
}

// describeJSONError says where and what type an unmarshal error is about,
// without the value that failed.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		got, _, _ := strings.Cut(te.Value, " ") // "number 1e999" holds the value
		if te.Field != "" {
			// Endpoint's UnmarshalJSON decodes through a local type "plain".
			field := strings.TrimPrefix(strings.ReplaceAll(te.Field, ".plain.", "."), "plain.")
			return fmt.Sprintf("field %s has the wrong type (a JSON %s, want %s)", field, got, jsonTypeName(te.Type))
		}
		return fmt.Sprintf("a JSON %s where an object belongs", got)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	return "a value of the wrong type or shape"
}

// printable keeps an error code fit for a message: codes are short words
// like EndPoint.0013; anything else is not repeated.
func printable(code string) string {
	if len(code) > 40 {
		return "an unreadable code"
	}
	for _, r := range code {
		if !(r == '.' || r == '_' || r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return "an unreadable code"
		}
	}
	return code
}

// decodeList reads a list answer: an object with an endpoints array (empty
// or not) and a total_count, every endpoint with an id.
func decodeList(data []byte) (*ListEndpointsResponse, error) {
	var raw struct {
		Endpoints  *[]Endpoint `json:"endpoints"`
		TotalCount *int        `json:"total_count"`
	}
	if err := decodeObject("a list of endpoints", data, &raw); err != nil {
		return nil, err
	}
	switch {
	case raw.Endpoints == nil:
		return nil, notDocument("no endpoints array in a list answer")
	case raw.TotalCount == nil:
		return nil, notDocument("no total_count in a list answer")
	case *raw.TotalCount < 0:
		return nil, notDocument("negative total_count in a list answer")
	}
	for i := range *raw.Endpoints {
		if (*raw.Endpoints)[i].ID == "" {
			return nil, notDocument("endpoints[%d] has no id", i)
		}
	}
	return &ListEndpointsResponse{Endpoints: *raw.Endpoints, TotalCount: *raw.TotalCount}, nil
}

// decodeEndpoint reads a create or get answer: an endpoint with an id.
func decodeEndpoint(data []byte) (*Endpoint, error) {
	var e Endpoint
	if err := decodeObject("an endpoint", data, &e); err != nil {
		return nil, err
	}
	if e.ID == "" {
		return nil, notDocument("an endpoint without an id")
	}
	return &e, nil
}

// decodeService reads a describe answer: a service with an id and a type.
func decodeService(data []byte) (*Service, error) {
	var s Service
	if err := decodeObject("an endpoint service", data, &s); err != nil {
		return nil, err
	}
	if s.ID == "" || s.ServiceType == "" {
		return nil, notDocument("an endpoint service without an id or a service_type")
	}
	return &s, nil
}

// decodeQuota reads a quota answer and returns the endpoint quota.
func decodeQuota(data []byte) (*Quota, error) {
	var out struct {
		Quotas *struct {
			Resources []Quota `json:"resources"`
		} `json:"quotas"`
	}
	if err := decodeObject("quotas", data, &out); err != nil {
		return nil, err
	}
	if out.Quotas == nil {
		return nil, notDocument("no quotas object in a quota answer")
	}
	for _, q := range out.Quotas.Resources {
		if q.Type == "endpoint" {
			if q.Quota < 0 || q.Used < 0 {
				return nil, notDocument("negative endpoint quota")
			}
			return &q, nil
		}
	}
	return nil, notDocument("no endpoint quota in a quota answer")
}

// decodeToken reads an IAM token answer: an object with a token object
// (project and catalog may be missing: the caller falls back to the
// project it asked for and to --endpoint).
func decodeToken(data []byte) (*tokenResponse, error) {
	var raw struct {
		Token *json.RawMessage `json:"token"`
	}
	if err := decodeObject("a token", data, &raw); err != nil {
		return nil, err
	}
	if raw.Token == nil {
		return nil, notDocument("no token object in a token answer")
	}
	var tr tokenResponse
	if err := decodeObject("a token", data, &tr); err != nil {
		return nil, err
	}
	return &tr, nil
}
