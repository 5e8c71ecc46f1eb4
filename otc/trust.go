package otc

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds where credentials may go and when to stop sending them.
// Policy: credentials (a token, a password, an AK/SK signature) go only to
// the hosts configured: no redirect is followed, and a plain-http VPCEP URL
// is refused unless the host is a loopback address or, in password mode,
// the auth URL is plain http as well (a simulator elsewhere). A target that refused the credentials for
// good gets no more requests: a 401 (after the one token refresh) stops
// every operation, a 403 the operation it answered.

// refuseRedirect is the CheckRedirect of every client of this package.
func refuseRedirect(op string, req *http.Request, via []*http.Request) error {
	e := &RedirectError{Op: op, To: serverURL(req.URL.String(), false)}
	if len(via) > 0 {
		e.From = serverURL(via[0].URL.String(), false)
	}
	if req.Response != nil {
		e.Status = req.Response.StatusCode
	}
	return e
}

// checkPlainHTTP refuses a plain-http VPCEP URL (from) unless the host is
// a loopback address or, in password mode, the auth URL is plain http too.
func (p *Provider) checkPlainHTTP(base, from string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
		return nil
	}
	// In password mode the password went to IAM over http already: the
	// VPCEP URL of the same (simulated) cloud may be http too. A token or
	// an AK/SK signature never goes over http to another host.
	if au, err := url.Parse(p.opts.Credentials.AuthURL); err == nil && au.Scheme == "http" && p.opts.Credentials.Mode() == "password" {
		return nil
	}
	if from == "" {
		from = "the VPCEP URL"
	}
	return configErrorf("%s gives the VPCEP URL %s, plain http: the credentials would cross the network in clear text; "+
		"refused (give an https URL with --endpoint)", from, serverURL(base, false))
}

// refusals remembers the permanent refusals of one client's target.
type refusals struct {
	mu   sync.Mutex
	all  *APIError            // a 401, or a token IAM refused: every operation
	byOp map[string]*APIError // a 403: that operation
}

// add records a refusal (an *APIError whose authProblem is set).
func (r *refusals) add(e *APIError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Op == OpToken || e.Status == http.StatusUnauthorized || e.CodeIs(vpcep.CodeAuthFailed) {
		if r.all == nil {
			r.all = e
		}
		return
	}
	if r.byOp == nil {
		r.byOp = map[string]*APIError{}
	}
	if r.byOp[e.Op] == nil {
		r.byOp[e.Op] = e
	}
}

// check returns a *RefusedError when op must not be sent.
func (r *refusals) check(op string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.all
	if e == nil {
		e = r.byOp[op]
	}
	if e == nil {
		return nil
	}
	return &RefusedError{Op: op, Cause: e}
}

// authHint says what the credentials lack, for a refusal of the VPCEP API.
func (c *Client) authHint(e *APIError) string {
	creds := c.opts.Credentials
	if e.Status == http.StatusForbidden || e.CodeIs(vpcep.CodeForbidden) {
		return fmt.Sprintf("the credentials lack the permission for %s in project %s: grant the user a VPCEP role or policy there", e.Op, c.projectID)
	}
	switch creds.Mode() {
	case "aksk":
		if mentionsClock(e.Message) {
			s := fmt.Sprintf("the API gateway says the signature expired: requests are signed with this machine's clock (now %s UTC), "+
				"which must be within 15 minutes of the cloud's; check the clock (NTP)", c.opts.Now().UTC().Format(time.DateTime))
			if creds.SecurityToken != "" {
				s += ", or get new temporary keys (OS_SECURITY_TOKEN)"
			}
			return s
		}
		return "the API refused the AK/SK signature: check OS_ACCESS_KEY and OS_SECRET_KEY (OS_SECURITY_TOKEN for temporary keys) and this machine's clock"
	case "token":
		return fmt.Sprintf("OS_AUTH_TOKEN was refused: it has expired or is not valid for project %s; get a new token, or use password credentials, which vpcepctl renews itself", c.projectID)
	}
	return fmt.Sprintf("a token IAM had just issued for project %s was refused too: the user lacks access to VPCEP in this project, or %s is another cloud's", c.projectID, c.server)
}

// tokenHint says what the credentials lack, for a refusal of IAM.
func tokenHint(e *APIError, projectID, projectName string) string {
	if e.Status == http.StatusForbidden {
		return fmt.Sprintf("the user has no role in project %s", firstNonEmpty(projectID, projectName))
	}
	return "IAM refused the user name, password or domain (OS_USERNAME, OS_PASSWORD, OS_USER_DOMAIN_NAME), or the project"
}

// mentionsClock reports whether an API message blames the request's time.
func mentionsClock(msg string) bool {
	m := strings.ToLower(msg)
	for _, w := range []string{"expire", "skew", "x-sdk-date", "request time", "timestamp"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}
