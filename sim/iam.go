package sim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// This file is the IAM side: POST /v3/auth/tokens with password identity,
// and the check of X-Auth-Token on VPCEP requests. Errors on this route use
// the Keystone error document, as IAM does.

type token struct {
	projectID string // empty for a domain-scoped token
	expires   time.Time
}

type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password struct {
				User struct {
					ID       string `json:"id"`
					Name     string `json:"name"`
					Password string `json:"password"`
					Domain   struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					} `json:"domain"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope authScope `json:"scope"`
	} `json:"auth"`
}

type authScope struct {
	Project *struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Domain *ref   `json:"domain"`
	} `json:"project"`
	Domain *ref `json:"domain"`
}

type ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type catalogEndpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
}

type catalogEntry struct {
	Endpoints []catalogEndpoint `json:"endpoints"`
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Type      string            `json:"type"`
}

type tokenBody struct {
	Token struct {
		Methods   []string `json:"methods"`
		ExpiresAt string   `json:"expires_at"`
		IssuedAt  string   `json:"issued_at"`
		User      struct {
			Domain            ref    `json:"domain"`
			ID                string `json:"id"`
			Name              string `json:"name"`
			PasswordExpiresAt string `json:"password_expires_at"`
		} `json:"user"`
		Domain  *ref `json:"domain,omitempty"`
		Project *struct {
			Domain ref    `json:"domain"`
			ID     string `json:"id"`
			Name   string `json:"name"`
		} `json:"project,omitempty"`
		Catalog []catalogEntry `json:"catalog,omitempty"`
		Roles   []ref          `json:"roles"`
	} `json:"token"`
}

// ExtraProjectID and ExtraProjectName are the id and name of the i-th
// project of Options.Projects.
func ExtraProjectID(i int) string   { return fmt.Sprintf("e0e0e0e0%024x", i) }
func ExtraProjectName(i int) string { return fmt.Sprintf("eu-de_extra%04d", i) }

func iamError(status int, title, msg string) response {
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Title   string `json:"title"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Title, body.Error.Message = status, title, msg
	return jsonResponse(status, body)
}

const iamTime = "2006-01-02T15:04:05.000000Z"

// issueToken answers POST /v3/auth/tokens.
func (s *Sim) issueToken(r *http.Request, body []byte) response {
	var req authRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return iamError(http.StatusBadRequest, "Bad Request", "The request body is not valid JSON.")
	}
	id := req.Auth.Identity
	if !slices.Contains(id.Methods, "password") {
		return iamError(http.StatusBadRequest, "Bad Request", "Only the password method is supported.")
	}
	u := id.Password.User
	userOK := (u.ID == UserID || u.Name == Username && (u.Domain.Name == DomainName || u.Domain.ID == DomainID)) &&
		u.Password == Password
	if !userOK {
		return iamError(http.StatusUnauthorized, "Unauthorized", "The username or password is wrong.")
	}
	projectID, ok := s.scopeProject(req.Auth.Scope)
	if !ok {
		return iamError(http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication.")
	}

	now := s.now()
	ttl := s.opts.Load().TokenTTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	tok := newToken()
	s.mu.Lock()
	if len(s.tokens) > 10000 {
		for k, t := range s.tokens {
			if !now.Before(t.expires) {
				delete(s.tokens, k)
			}
		}
	}
	s.tokens[tok] = token{projectID: projectID, expires: now.Add(ttl)}
	s.mu.Unlock()

	out := tokenDocument(r, now, ttl, projectID, s.names[projectID])
	resp := jsonResponse(http.StatusCreated, out)
	resp.header = http.Header{"X-Subject-Token": {tok}}
	return resp
}

// scopeProject reads the scope of a token request: the project it names
// (by ID, or by name in the user's domain), or "" for a domain scope.
// ok is false when the scope names nothing this cloud has.
func (s *Sim) scopeProject(sc authScope) (projectID string, ok bool) {
	switch {
	case sc.Project != nil:
		for pid, name := range s.names {
			if sc.Project.ID != "" && sc.Project.ID == pid || sc.Project.ID == "" && sc.Project.Name == name {
				projectID = pid
			}
		}
		if d := sc.Project.Domain; d != nil && d.Name != DomainName && d.ID != DomainID {
			projectID = ""
		}
		return projectID, projectID != ""
	case sc.Domain != nil:
		return "", sc.Domain.Name == DomainName || sc.Domain.ID == DomainID
	}
	return "", true
}

// tokenDocument is the body of a token answer issued at now: the user,
// the scope, and a catalog whose URLs point back at the server that r
// reached. ?nocatalog leaves the catalog out.
func tokenDocument(r *http.Request, now time.Time, ttl time.Duration, projectID, name string) tokenBody {
	var out tokenBody
	t := &out.Token
	t.Methods = []string{"password"}
	t.IssuedAt = now.Format(iamTime)
	t.ExpiresAt = now.Add(ttl).Format(iamTime)
	t.User.Domain = ref{ID: DomainID, Name: DomainName}
	t.User.ID, t.User.Name = UserID, Username
	t.Roles = []ref{{ID: "0", Name: "op_gated_vpcep"}, {ID: "5b3c2a1d0e9f8a7b6c5d4e3f2a1b0c9d", Name: "te_admin"}}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	catalog := []catalogEntry{{
		Type: "identity", Name: "iam", ID: "1331e5cff2a74d76b03da1225910e0f1",
		Endpoints: []catalogEndpoint{{ID: "089d4a381d574308a703122d3ae73d51", Interface: "public",
			Region: "*", RegionID: "*", URL: base + "/v3"}},
	}}
	if projectID != "" {
		t.Project = &struct {
			Domain ref    `json:"domain"`
			ID     string `json:"id"`
			Name   string `json:"name"`
		}{Domain: ref{ID: DomainID, Name: DomainName}, ID: projectID, Name: name}
		catalog = append(catalog, catalogEntry{
			Type: "vpcep", Name: "vpcep", ID: "7a3b5c2d9e8f4a1b0c6d5e4f3a2b1c0d",
			Endpoints: []catalogEndpoint{{ID: "4e7f2a9b1c3d4e5f6a7b8c9d0e1f2a3b", Interface: "public",
				Region: Region, RegionID: Region, URL: base + "/v1/" + projectID}},
		})
	} else {
		t.Domain = &ref{ID: DomainID, Name: DomainName}
	}
	if r.URL.Query().Get("nocatalog") == "" {
		t.Catalog = catalog
	}
	return out
}

// checkToken reports the problem with a token for project pid, or nil.
func (s *Sim) checkToken(tok, pid string) *response {
	s.mu.Lock()
	t, ok := s.tokens[tok]
	s.mu.Unlock()
	if !ok || !s.now().Before(t.expires) {
		r := apiError(http.StatusUnauthorized, "EndPoint.0003", "Authentication failed or authentication information is invalid.")
		return &r
	}
	if t.projectID != pid {
		r := apiError(http.StatusForbidden, "EndPoint.0004", "Authentication information is incorrect or you have no permissions.")
		return &r
	}
	return nil
}

func newToken() string {
	b := make([]byte, 180)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "MIIDkgYJKoZIhvcNAQcC" + base64.RawURLEncoding.EncodeToString(b)
}
