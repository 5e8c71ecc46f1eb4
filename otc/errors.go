package otc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the error types of the client and the one classification
// every retry decision uses (Class). Policy: no error text carries a
// secret or a request URL (a host is named, never a path or a query); API
// messages are scrubbed of every secret the run knows before they are
// returned (see Redactor).

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
	// Hint says, for a refusal (401, 403), what the credentials lack.
	Hint string
	// URL is the server that answered (scheme and host), named in the
	// message of an answer without an error code: not the API's own
	// error document (a proxy's page, an empty body).
	URL string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.Status)
	if e.Code == "" && e.URL != "" && e.authProblem() == "" {
		fmt.Fprintf(&b, " from %s", e.URL)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if what := e.authProblem(); what != "" {
		fmt.Fprintf(&b, ": %s", what)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

// redact scrubs every text the server sent of the run's secrets (an API
// may echo a token in any of them), and keeps the code a code.
func (e *APIError) redact(r *Redactor) {
	e.Message, e.RequestID, e.Code = r.Redact(e.Message), r.Redact(e.RequestID), r.Redact(e.Code)
	if vpcep.Printable(e.Code) != e.Code {
		e.Code = "(an unreadable code)"
	}
}

// CodeIs reports whether the error code is code, ignoring case.
func (e *APIError) CodeIs(code string) bool { return strings.EqualFold(e.Code, code) }

// authProblem names an authentication or authorisation refusal (401 or
// EndPoint.0003; 403 or EndPoint.0004), and is "" for any other answer.
func (e *APIError) authProblem() string {
	switch {
	case e.Status == http.StatusUnauthorized, e.CodeIs(vpcep.CodeAuthFailed):
		return "authentication failed"
	case e.Status == http.StatusForbidden, e.CodeIs(vpcep.CodeForbidden):
		return "permission denied"
	}
	return ""
}

// Class classifies the answer. A create that got a 5xx is Ambiguous, since
// the API may have committed it before failing. 501 and 505 say the request
// can never work and are Permanent.
func (e *APIError) Class() Class {
	switch {
	case e.Status == http.StatusTooManyRequests, e.CodeIs(vpcep.CodeThrottled):
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
func (e *APIError) QuotaExceeded() bool { return e.CodeIs(vpcep.CodeQuota) }

// NetError is a transport failure: no HTTP answer was read (a dial failure,
// a reset, a timeout; or the caller's context ended after a create was
// written, which leaves the create as uncertain as a timeout does).
//
// With URL set, its text names the server and the cause in plain words:
//
//	list: cannot reach the VPCEP API at https://vpcep.example (connection refused) after 9 attempts
//	token: no answer from https://iam.example/v3 (timed out) after 4 attempts
type NetError struct {
	Op   string
	Sent bool // false when the connection was never made
	Err  error
	// URL is the server: the VPCEP API's scheme and host, or the IAM URL
	// (OS_AUTH_URL) for op token; never a request path or query. Empty
	// when the failure is not the server's (a pacer that refused, the
	// caller's context).
	URL string
	// Attempts counts the HTTP attempts made, retries included (0: not
	// known).
	Attempts int
}

func (e *NetError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	var b strings.Builder
	b.WriteString(e.Op + ": ")
	if !e.Sent || isDialError(e.Err) {
		b.WriteString("cannot reach ")
	} else {
		b.WriteString("no answer from ")
	}
	if e.Op != OpToken {
		b.WriteString("the VPCEP API at ")
	}
	fmt.Fprintf(&b, "%s (%s)", e.URL, netCause(e.Err))
	switch {
	case e.Attempts == 1:
		b.WriteString(" after 1 attempt")
	case e.Attempts > 1:
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

func (e *NetError) Unwrap() error { return e.Err }

// isDialError reports whether err happened while connecting (resolving
// the host included), before anything was sent.
func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// netCause describes a transport failure in a few plain words, without the
// addresses and Go wrappers of its text ("dial tcp 127.0.0.1:1: connect:
// connection refused" is "connection refused").
func netCause(err error) string {
	var dns *net.DNSError
	var timeout interface{ Timeout() bool }
	switch {
	case err == nil:
		return "no answer"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host"
		}
		return "host name lookup: " + dns.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &timeout) && timeout.Timeout():
		return "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	for {
		switch e := err.(type) {
		case *url.Error:
			err = e.Err
		case *net.OpError:
			err = e.Err
		case *os.SyscallError:
			err = e.Err
		default:
			return err.Error()
		}
	}
}

// serverURL is raw without user info, query and fragment, and with its
// path only when keepPath is set: a server's name fit for messages. It is
// "" when raw is not an absolute URL.
func serverURL(raw string, keepPath bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	s := u.Scheme + "://" + u.Host
	if keepPath {
		s += strings.TrimRight(u.EscapedPath(), "/")
	}
	return s
}

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

// RedirectError is an answer that redirects elsewhere. No redirect of the
// API or of IAM is followed: the token, the password or a fresh AK/SK
// signature would go with it.
type RedirectError struct {
	Op     string
	Status int
	From   string // scheme and host that answered
	To     string // scheme and host of the Location (never a path or a query)
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s: %s answered HTTP %d, a redirect to %s: not followed (credentials are sent to the configured hosts only; set --endpoint or OS_AUTH_URL to the right host)",
		e.Op, e.From, e.Status, e.To)
}

// Class implements the classification: a redirect is Permanent.
func (e *RedirectError) Class() Class { return Permanent }

// RefusedError is a request that was not sent: an earlier request to the
// same target was refused for good (see Client), and sending more would
// only repeat the refusal.
type RefusedError struct {
	Op    string
	Cause *APIError
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: not sent, refused before: %v", e.Op, e.Cause)
}
func (e *RefusedError) Unwrap() error { return e.Cause }

// Class implements the classification: a refusal is Permanent.
func (e *RefusedError) Class() Class { return Permanent }

// ResponseError is a success answer whose body could not be used: larger
// than the size limit, or not the JSON the operation returns. For a create
// it is Ambiguous (the endpoint exists but its id is unknown); otherwise
// Permanent, since resending gets the same body.
type ResponseError struct {
	Op     string
	Status int
	Err    error
	// URL is the server that answered (scheme and host, or the IAM URL),
	// for messages; empty when unknown.
	URL string
}

func (e *ResponseError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("%s: HTTP %d: %v", e.Op, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: HTTP %d from %s: unusable answer: %v", e.Op, e.Status, e.URL, e.Err)
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

// IsAuth reports whether err is an answer that refuses the credentials or
// the permission: HTTP 401 or 403 (from IAM's token API or from VPCEP), or
// EndPoint.0003 / EndPoint.0004. A rerun with the same credentials fails
// the same way.
func IsAuth(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.authProblem() != ""
}

// ConfigError is a configuration problem the client detects: incomplete
// credentials, no project id, no region, a clouds.yaml that cannot be
// found, read or parsed. A rerun with the same configuration fails the
// same way (the CLI maps it to exit code 3 with errors.As). Its message is
// lower case and names what to set.
type ConfigError struct {
	Msg string
	Err error // the cause, when there is one (e.g. a file that cannot be read)
}

func (e *ConfigError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// configErrorf returns a *ConfigError with a formatted message (no %w).
func configErrorf(format string, args ...any) *ConfigError {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
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

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
