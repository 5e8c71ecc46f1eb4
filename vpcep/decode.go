package vpcep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
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

// ErrNotDocument is the cause of a ResponseError for an answer that is not
// the document its operation returns.
var ErrNotDocument = errors.New("not the expected document")

// NotDocument says what the answer lacks.
func NotDocument(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotDocument, fmt.Sprintf(format, args...))
}

// apiErrorCode is the shape of the API's error codes (EndPoint.0001,
// APIGW.0301): only a code of that shape is repeated in an error, since
// anything else in an answer may echo a secret.
var apiErrorCode = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}\.[0-9]{3,5}$`)

// DecodeObject unmarshals data, which must be a JSON object, into out. A
// body that carries an error document with a 2xx status is named as such.
func DecodeObject(what string, data []byte, out any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return NotDocument("empty body, want %s", what)
	}
	if data[0] != '{' {
		return NotDocument("want %s (a JSON object)", what)
	}
	var probe struct {
		ErrorCode string `json:"error_code"`
	}
	if json.Unmarshal(data, &probe) == nil && probe.ErrorCode != "" {
		if apiErrorCode.MatchString(probe.ErrorCode) {
			return NotDocument("an error document (%s) with a success status", probe.ErrorCode)
		}
		return NotDocument("an error document with a success status")
	}
	if err := json.Unmarshal(data, out); err != nil {
		return NotDocument("%s: %s", what, DescribeJSONError(err))
	}
	return nil
}

// DescribeJSONError says where and what type an unmarshal error is about,
// without the value that failed.
func DescribeJSONError(err error) string {
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

// Printable keeps an error code fit for a message: codes are short words
// like EndPoint.0013; anything else is not repeated.
func Printable(code string) string {
	if len(code) > 40 {
		return "an unreadable code"
	}
	for _, r := range code {
		if !(r == '.' || r == '_' || r == '-' || r == ' ' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return "an unreadable code"
		}
	}
	return code
}

// DecodeList reads a list answer: an object with an endpoints array (empty
// or not) and a total_count, every endpoint with an id.
func DecodeList(data []byte) (*ListEndpointsResponse, error) {
	var raw struct {
		Endpoints  *[]Endpoint `json:"endpoints"`
		TotalCount *int        `json:"total_count"`
	}
	if err := DecodeObject("a list of endpoints", data, &raw); err != nil {
		return nil, err
	}
	switch {
	case raw.Endpoints == nil:
		return nil, NotDocument("no endpoints array in a list answer")
	case raw.TotalCount == nil:
		return nil, NotDocument("no total_count in a list answer")
	case *raw.TotalCount < 0:
		return nil, NotDocument("negative total_count in a list answer")
	}
	for i := range *raw.Endpoints {
		if (*raw.Endpoints)[i].ID == "" {
			return nil, NotDocument("endpoints[%d] has no id", i)
		}
	}
	return &ListEndpointsResponse{Endpoints: *raw.Endpoints, TotalCount: *raw.TotalCount}, nil
}

// DecodeEndpoint reads a create or get answer: an endpoint with an id.
func DecodeEndpoint(data []byte) (*Endpoint, error) {
	var e Endpoint
	if err := DecodeObject("an endpoint", data, &e); err != nil {
		return nil, err
	}
	if e.ID == "" {
		return nil, NotDocument("an endpoint without an id")
	}
	return &e, nil
}

// DecodeService reads a describe answer: a service with an id and a type.
func DecodeService(data []byte) (*Service, error) {
	var s Service
	if err := DecodeObject("an endpoint service", data, &s); err != nil {
		return nil, err
	}
	if s.ID == "" || s.ServiceType == "" {
		return nil, NotDocument("an endpoint service without an id or a service_type")
	}
	return &s, nil
}

// DecodeQuota reads a quota answer and returns the endpoint quota.
func DecodeQuota(data []byte) (*Quota, error) {
	var out struct {
		Quotas *struct {
			Resources []Quota `json:"resources"`
		} `json:"quotas"`
	}
	if err := DecodeObject("quotas", data, &out); err != nil {
		return nil, err
	}
	if out.Quotas == nil {
		return nil, NotDocument("no quotas object in a quota answer")
	}
	for _, q := range out.Quotas.Resources {
		if q.Type == "endpoint" {
			if q.Quota < 0 || q.Used < 0 {
				return nil, NotDocument("negative endpoint quota")
			}
			return &q, nil
		}
	}
	return nil, NotDocument("no endpoint quota in a quota answer")
}

// Connection is one connection of an endpoint service, as its owner sees
// it: an endpoint (of any project) and its status.
type Connection struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// DecodeConnections decodes the answer to accepting or rejecting a
// connection (and the list of a service's connections).
func DecodeConnections(data []byte) ([]Connection, error) {
	var out struct {
		Connections *[]Connection `json:"connections"`
	}
	if err := DecodeObject("connections", data, &out); err != nil {
		return nil, err
	}
	if out.Connections == nil {
		return nil, NotDocument("no connections in a connection answer")
	}
	for _, c := range *out.Connections {
		if c.ID == "" {
			return nil, NotDocument("a connection without an id")
		}
	}
	return *out.Connections, nil
}

// jsonTypeName names the JSON a Go type decodes from.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t {
	case reflect.TypeFor[Bool]():
		return "a boolean or \"true\"/\"false\""
	case reflect.TypeFor[StringList]():
		return "a string or a list of strings"
	case reflect.TypeFor[Time]():
		return "a timestamp string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}

// decodeTypeError is the error of a lenient decoder that cannot read
// data: encoding/json adds the field's path, and the text names the JSON
// kind it got, never the value (it may be a secret an API echoed).
func decodeTypeError(data []byte, v any) error {
	kind := "a value"
	switch d := bytes.TrimSpace(data); {
	case len(d) == 0:
	case d[0] == '"':
		kind = "string"
	case d[0] == '[':
		kind = "array"
	case d[0] == '{':
		kind = "object"
	case d[0] == 't', d[0] == 'f':
		kind = "bool"
	default:
		kind = "number"
	}
	return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeOf(v)}
}
