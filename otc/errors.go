package otc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// This file holds the error types of the client and the one classification
// every retry decision uses (Class). Policy: no error text carries a
// secret; API messages are scrubbed of the credentials' secrets before they
// are returned (see redact).

// Well-known error codes. Compare with CodeIs, never with ==: the API
// spells the prefix both EndPoint and Endpoint.
const (
	CodeSystemError  = "EndPoint.0001"
	CodeThrottled    = "EndPoint.0022"
	CodeQuota        = "Endpoint.1018"
	CodeNotFound     = "EndPoint.2006"
	CodeTimedOut     = "EndPoint.0013"
	CodeAuthFailed   = "EndPoint.0003"
	CodeForbidden    = "EndPoint.0004"
	CodeResourceGone = "EndPoint.0005"
)

// Class is the retry classification of a failed request. Every retry
// decision in vpcepctl is made on a Class, never on message text.
type Class int

const (
	// Permanent: a rerun of the same request fails the same way.
	Permanent Class = iota
	// Throttled: 429 or 400 EndPoint.0022; the request had no effect.
	Throttled
	// ServerError: a transient 5xx; for idempotent calls safe to resend.
	ServerError
	// NetworkBeforeSend: the request never reached the server (dial
	// failure); safe to resend, even a create.
	NetworkBeforeSend
	// Ambiguous: the request may have taken effect (timeout, reset or 5xx
	// after it was sent). A create must not be resent before checking.
	Ambiguous
)

func (c Class) String() string {
	switch c {
	case Throttled:
		return "throttled"
	case ServerError:
		return "server_error"
	case NetworkBeforeSend:
		return "network"
	case Ambiguous:
		return "ambiguous"
	}
	return "permanent"
}

// APIError is an error answer of the API.
type APIError struct {
	Op        string // operation: list, get, create, delete, tag, service, quota, token
	Status    int    // HTTP status
	Code      string // error_code, e.g. EndPoint.0002
	Message   string // error_msg (or error_message)
	RequestID string // X-Request-Id, when the API sent one
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// CodeIs reports whether the error code is code, ignoring case.
func (e *APIError) CodeIs(code string) bool { return strings.EqualFold(e.Code, code) }

// Class classifies the answer. A create that got a 5xx is Ambiguous, since
// the API may have committed it before failing. 501 and 505 say the request
// can never work and are Permanent.
func (e *APIError) Class() Class {
	switch {
	case e.Status == http.StatusTooManyRequests, e.CodeIs(CodeThrottled):
		return Throttled
	case e.Status == http.StatusNotImplemented, e.Status == http.StatusHTTPVersionNotSupported:
		return Permanent
	case e.Status >= 500:
		if e.Op == OpCreate {
			return Ambiguous
		}
		return ServerError
	}
	return Permanent
}

// NotFound reports whether the error says the resource does not exist.
func (e *APIError) NotFound() bool { return e.Status == http.StatusNotFound }

// QuotaExceeded reports whether the error is the endpoint quota error.
func (e *APIError) QuotaExceeded() bool { return e.CodeIs(CodeQuota) }

// NetError is a transport failure: no HTTP answer was read (a dial failure,
// a reset, a timeout; or the caller's context ended after a create was
// written, which leaves the create as uncertain as a timeout does).
type NetError struct {
	Op   string
	Sent bool // false when the connection was never made
	Err  error
}

func (e *NetError) Error() string { return fmt.Sprintf("%s: %v", e.Op, e.Err) }
func (e *NetError) Unwrap() error { return e.Err }

// Class implements the classification for network failures.
func (e *NetError) Class() Class {
	if !e.Sent {
		return NetworkBeforeSend
	}
	if e.Op == OpCreate {
		return Ambiguous
	}
	return ServerError
}

// ResponseError is a success answer whose body could not be used: larger
// than the size limit, or not the JSON the operation returns. For a create
// it is Ambiguous (the endpoint exists but its id is unknown); otherwise
// Permanent, since resending gets the same body.
type ResponseError struct {
	Op     string
	Status int
	Err    error
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %v", e.Op, e.Status, e.Err)
}
func (e *ResponseError) Unwrap() error { return e.Err }

// Class implements the classification for unusable answers.
func (e *ResponseError) Class() Class {
	if e.Op == OpCreate && e.Status/100 == 2 {
		return Ambiguous
	}
	return Permanent
}

// errBodyTooLarge is the cause of a ResponseError for an answer over the
// size limit.
var errBodyTooLarge = errors.New("response body larger than the limit")

// Classify returns the Class of err (Permanent for nil or unknown errors,
// context errors included).
func Classify(err error) Class {
	var c interface{ Class() Class }
	if errors.As(err, &c) {
		return c.Class()
	}
	return Permanent
}

// IsAmbiguous reports whether err leaves the outcome of a create unknown.
func IsAmbiguous(err error) bool { return Classify(err) == Ambiguous }

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.NotFound()
}

// IsQuotaExceeded reports whether err is the quota error Endpoint.1018.
func IsQuotaExceeded(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.QuotaExceeded()
}

// decodeError builds an APIError from an error answer. A body that is not
// the documented JSON still gives an APIError with the status.
func decodeError(op string, resp *http.Response, body []byte) *APIError {
	e := &APIError{Op: op, Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	var b struct {
		RequestID    string `json:"request_id"` // API gateway errors carry it in the body
		ErrorCode    string `json:"error_code"`
		ErrorMsg     string `json:"error_msg"`
		ErrorMessage string `json:"error_message"`
		Code         any    `json:"code"`
		Message      string `json:"message"`
		Error        *struct {
			Code    any    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Message = b.ErrorCode, firstNonEmpty(b.ErrorMsg, b.ErrorMessage, b.Message)
		e.RequestID = firstNonEmpty(e.RequestID, b.RequestID)
		if e.Code == "" && b.Code != nil {
			e.Code = fmt.Sprint(b.Code)
		}
		if b.Error != nil { // IAM shape: {"error": {"code": 401, "message": "..."}}
			e.Message = firstNonEmpty(e.Message, b.Error.Message)
		}
	} else if len(body) > 0 {
		e.Message = fmt.Sprintf("unreadable error body (%d bytes)", len(body))
	}
	return e
}

// redact replaces every secret in s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
