package otc

// IAM's token documents: the password request vpcepctl sends and the
// strict reading of the answer.

import (
	"encoding/json"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

type tokenRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password struct {
				User struct {
					Name     string `json:"name"`
					Password string `json:"password"`
					Domain   struct {
						Name string `json:"name"`
					} `json:"domain"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope struct {
			Project struct {
				ID     string `json:"id,omitempty"`
				Name   string `json:"name,omitempty"`
				Domain *struct {
					Name string `json:"name"`
				} `json:"domain,omitempty"`
			} `json:"project"`
		} `json:"scope"`
	} `json:"auth"`
}

type tokenResponse struct {
	Token struct {
		ExpiresAt string `json:"expires_at"`
		IssuedAt  string `json:"issued_at"`
		Project   struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"project"`
		Catalog []struct {
			Type      string `json:"type"`
			Endpoints []struct {
				Interface string `json:"interface"`
				Region    string `json:"region"`
				RegionID  string `json:"region_id"`
				URL       string `json:"url"`
			} `json:"endpoints"`
		} `json:"catalog"`
	} `json:"token"`
}

// requestBody is the password-scoped token request for one project, by
// ID when it is known, else by name in the user's domain.
func (s *tokenSource) requestBody(projectID, projectName string) []byte {
	var body tokenRequest
	id := &body.Auth.Identity
	id.Methods = []string{"password"}
	id.Password.User.Name = s.creds.Username
	id.Password.User.Password = s.creds.Password
	id.Password.User.Domain.Name = s.creds.UserDomainName
	if projectID != "" {
		body.Auth.Scope.Project.ID = projectID
	} else {
		body.Auth.Scope.Project.Name = projectName
		body.Auth.Scope.Project.Domain = &struct {
			Name string `json:"name"`
		}{s.creds.UserDomainName}
	}
	b, err := json.Marshal(body)
	if err != nil { // strings only: cannot fail
		panic(err)
	}
	return b
}

// newToken reads the lifetime and the VPCEP catalog entries out of a
// decoded token answer.
func (s *tokenSource) newToken(value string, tr *tokenResponse, projectID string) *token {
	t := &token{value: value, catalog: map[string]string{}, fetched: s.now()}
	t.projectID = firstNonEmpty(tr.Token.Project.ID, projectID)
	if tr.Token.ExpiresAt != "" {
		if exp, err := vpcep.ParseTime(tr.Token.ExpiresAt); err == nil {
			t.expires = exp
			// The lifetime in IAM's own clock, counted from now in this
			// machine's: a skewed clock does not shorten it.
			if iss, err := vpcep.ParseTime(tr.Token.IssuedAt); err == nil && exp.After(iss) {
				t.skew = t.fetched.Sub(iss)
				t.expires = t.fetched.Add(exp.Sub(iss))
			}
			s.schedule(t)
		}
	}
	for _, c := range tr.Token.Catalog {
		if c.Type != "vpcep" {
			continue
		}
		for _, e := range c.Endpoints {
			if e.Interface != "" && e.Interface != "public" || e.URL == "" {
				continue
			}
			r := firstNonEmpty(e.Region, e.RegionID)
			if _, dup := t.catalog[r]; !dup {
				t.catalog[r] = BaseURL(e.URL)
			}
		}
	}
	return t
}

// decodeToken reads an IAM token answer: an object with a token object
// (project and catalog may be missing: the caller falls back to the
// project it asked for and to --endpoint).
func decodeToken(data []byte) (*tokenResponse, error) {
	var raw struct {
		Token *json.RawMessage `json:"token"`
	}
	if err := vpcep.DecodeObject("a token", data, &raw); err != nil {
		return nil, err
	}
	if raw.Token == nil {
		return nil, vpcep.NotDocument("no token object in a token answer")
	}
	var tr tokenResponse
	if err := vpcep.DecodeObject("a token", data, &tr); err != nil {
		return nil, err
	}
	return &tr, nil
}
