package vpcep

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// This file holds the VPCEP documents. The client (package otc), the
// planner (plan) and the simulator (sim) share them, so both sides of
// every test speak the same JSON.
//
// Policy: strict in what we send (fixed field names, omitempty on every
// optional field), lenient in what we read (see Bool, Time, StringList).

// Endpoint statuses as the API spells them.
const (
	StatusCreating          = "creating"
	StatusAccepted          = "accepted"
	StatusPendingAcceptance = "pendingAcceptance"
	StatusRejected          = "rejected"
	StatusFailed            = "failed"
	StatusDeleting          = "deleting"
)

// Service types.
const (
	ServiceInterface = "interface"
	ServiceGateway   = "gateway"
)

// Tag is one resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// PolicyStatement is one statement of a gateway endpoint's policy.
type PolicyStatement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// CreateEndpointRequest is the body of POST /v1/{project_id}/vpc-endpoints.
type CreateEndpointRequest struct {
	EndpointServiceID string            `json:"endpoint_service_id"`
	VPCID             string            `json:"vpc_id"`
	SubnetID          string            `json:"subnet_id,omitempty"`
	PortIP            string            `json:"port_ip,omitempty"`
	EnableDNS         *bool             `json:"enable_dns,omitempty"`
	Whitelist         []string          `json:"whitelist,omitempty"`
	EnableWhitelist   *bool             `json:"enable_whitelist,omitempty"`
	RouteTables       []string          `json:"routetables,omitempty"`
	PolicyStatement   []PolicyStatement `json:"policy_statement,omitempty"`
	Description       string            `json:"description,omitempty"`
	SpecificationName string            `json:"specification_name,omitempty"`
	Tags              []Tag             `json:"tags,omitempty"`
}

// EndpointError is one entry of an endpoint's "error" list. The API names the
// message error_message here (not error_msg as in error bodies).
type EndpointError struct {
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

// Endpoint is a VPC endpoint as create, get and list return it.
type Endpoint struct {
	ID                  string            `json:"id"`
	ServiceType         string            `json:"service_type,omitempty"`
	Status              string            `json:"status"`
	ActiveStatus        StringList        `json:"active_status,omitempty"`
	EndpointServiceName string            `json:"endpoint_service_name,omitempty"`
	EndpointServiceID   string            `json:"endpoint_service_id"`
	MarkerID            int64             `json:"marker_id,omitempty"`
	IP                  string            `json:"ip,omitempty"`
	VPCID               string            `json:"vpc_id"`
	SubnetID            string            `json:"subnet_id,omitempty"`
	ProjectID           string            `json:"project_id,omitempty"`
	EnableDNS           Bool              `json:"enable_dns"`
	DNSNames            []string          `json:"dns_names,omitempty"`
	Whitelist           []string          `json:"whitelist,omitempty"`
	EnableWhitelist     Bool              `json:"enable_whitelist"`
	RouteTables         []string          `json:"routetables,omitempty"`
	PolicyStatement     []PolicyStatement `json:"policy_statement,omitempty"`
	SpecificationName   string            `json:"specification_name,omitempty"`
	EnableStatus        string            `json:"enable_status,omitempty"`
	Description         string            `json:"description,omitempty"`
	Tags                []Tag             `json:"tags,omitempty"`
	Error               []EndpointError   `json:"error,omitempty"`
	CreatedAt           Time              `json:"created_at"`
	UpdatedAt           Time              `json:"updated_at"`
}

// TagValue returns the value of tag key and whether the endpoint has it.
func (e *Endpoint) TagValue(key string) (string, bool) {
	for _, t := range e.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// UnmarshalJSON accepts the older spelling update_at for updated_at.
func (e *Endpoint) UnmarshalJSON(b []byte) error {
	type plain Endpoint
	var aux struct {
		plain
		UpdateAt *Time `json:"update_at"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*e = Endpoint(aux.plain)
	if e.UpdatedAt.IsZero() && aux.UpdateAt != nil {
		e.UpdatedAt = *aux.UpdateAt
	}
	return nil
}

// ListEndpointsResponse is the body of GET /v1/{project_id}/vpc-endpoints.
type ListEndpointsResponse struct {
	Endpoints  []Endpoint `json:"endpoints"`
	TotalCount int        `json:"total_count"`
}

// Service is a VPC endpoint service as the describe and public-list calls
// return it (the fields vpcepctl needs, decoded leniently).
type Service struct {
	ID              string `json:"id"`
	ServiceName     string `json:"service_name"`
	ServiceType     string `json:"service_type"`
	IsCharge        Bool   `json:"is_charge,omitempty"`
	ApprovalEnabled Bool   `json:"approval_enabled,omitempty"`
	CreatedAt       Time   `json:"created_at"`
}

// Quota is one entry of GET /v1/{project_id}/quotas.
type Quota struct {
	Type  string `json:"type"`
	Used  int    `json:"used"`
	Quota int    `json:"quota"`
}

// ErrorBody is the error document of the VPCEP API.
type ErrorBody struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

// Bool decodes true, false, "true" and "false" (older responses send
// booleans as strings). It encodes as a JSON boolean.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	if s == "" || s == "null" {
		*b = false
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return decodeTypeError(data, Bool(false))
	}
	*b = Bool(v)
	return nil
}

// StringList decodes a JSON string or an array of strings (active_status
// comes in both shapes).
type StringList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *StringList) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*l = nil
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return decodeTypeError(data, StringList(nil))
		}
		*l = StringList{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(data, &ss); err != nil {
		return decodeTypeError(data, StringList(nil))
	}
	*l = ss
	return nil
}

// Time decodes the timestamp shapes the API sends: RFC 3339 with or
// without fraction, and without a zone (read as UTC). It encodes as RFC 3339
// in UTC; the zero Time encodes as an empty string.
type Time struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// ParseTime parses s in any of the layouts the API uses.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("timestamp: not in a layout the API uses")
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return decodeTypeError(data, Time{})
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return decodeTypeError(data, Time{})
	}
	t.Time = v
	return nil
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}
