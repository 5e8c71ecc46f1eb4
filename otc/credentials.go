package otc

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// This file holds the credentials: the modes DESIGN.md names (password,
// token, AK/SK), their checks, and how they never show a secret.

// Credentials say how to authenticate. Exactly one mode is used, the first
// that is set, in the order DESIGN.md gives (see Mode): a password (with
// AuthURL), a fixed Token, AK/SK (AccessKey and SecretKey). Its String
// method never shows a secret.
type Credentials struct {
	AuthURL        string // IAM endpoint, e.g. https://iam.eu-de.otc.t-systems.com/v3
	Username       string
	Password       string
	UserDomainName string
	ProjectID      string
	ProjectName    string
	Region         string
	Token          string // OS_AUTH_TOKEN
	AccessKey      string
	SecretKey      string
	SecurityToken  string // temporary AK/SK
	TLS            TLS    // certificate checks and client certificate
}

// Mode names the authentication mode the credentials select.
func (c Credentials) Mode() string {
	// The order DESIGN.md gives: password (from clouds.yaml or OS_*), then
	// a token, then AK/SK.
	switch {
	case c.Password != "" && c.AuthURL != "":
		return "password"
	case c.Token != "":
		return "token"
	case c.AccessKey != "" && c.SecretKey != "":
		return "aksk"
	case c.Password != "":
		return "password" // incomplete: Validate says what is missing
	}
	return "none"
}

// String describes the credentials without secrets.
func (c Credentials) String() string {
	return fmt.Sprintf("mode=%s auth_url=%s user=%s project_id=%s project_name=%s region=%s",
		c.Mode(), c.AuthURL, c.Username, c.ProjectID, c.ProjectName, c.Region)
}

// GoString keeps %#v from printing secrets.
func (c Credentials) GoString() string { return "otc.Credentials{" + c.String() + "}" }

// LogValue keeps slog (text and JSON handlers alike) from logging secrets.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Secrets returns the secret values (for redaction and for tests that prove
// they never leak). Redaction skips those under six characters, which are
// no realistic secrets and cannot be scrubbed from a message without
// garbling it (see minRedactLen).
func (c Credentials) Secrets() []string {
	var out []string
	for _, s := range []string{c.Password, c.Token, c.SecretKey, c.SecurityToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Validate checks that the credentials are complete for their mode. Its
// errors are *ConfigError, one line that names the variables to set: for
// incomplete credentials, those missing for the mode the variables that
// are set point at.
func (c Credentials) Validate() error {
	switch c.Mode() {
	case "aksk", "token":
		return nil
	case "password":
		if missing := c.passwordMissing(); len(missing) > 0 {
			return configErrorf("credentials: password authentication needs %s", and(missing))
		}
		if u, err := url.Parse(c.AuthURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return configErrorf("credentials: OS_AUTH_URL %q is not a URL; want e.g. https://iam.eu-de.otc.t-systems.com/v3", c.AuthURL)
		}
		return nil
	}
	// No mode is complete. The project id and the region serve every
	// mode; the other values point at the one that was tried.
	var tried []string
	if c.AuthURL != "" || c.Username != "" || c.UserDomainName != "" || c.ProjectName != "" {
		tried = append(tried, "password authentication needs "+and(c.passwordMissing()))
	}
	if c.AccessKey != "" || c.SecretKey != "" || c.SecurityToken != "" {
		var missing []string
		if c.AccessKey == "" {
			missing = append(missing, "OS_ACCESS_KEY")
		}
		if c.SecretKey == "" {
			missing = append(missing, "OS_SECRET_KEY")
		}
		tried = append(tried, "AK/SK authentication needs "+and(missing))
	}
	if len(tried) > 0 {
		return configErrorf("credentials: %s", strings.Join(tried, "; "))
	}
	return configErrorf("credentials: none found; set OS_CLOUD (an entry of clouds.yaml), " +
		"or OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_USER_DOMAIN_NAME and OS_PROJECT_ID or OS_PROJECT_NAME (password), " +
		"or OS_AUTH_TOKEN with --endpoint (token), or OS_ACCESS_KEY and OS_SECRET_KEY (AK/SK); " +
		"or try vpcepctl with --sim, against its built-in simulator")
}

// passwordMissing names the variables password authentication lacks.
func (c Credentials) passwordMissing() []string {
	var missing []string
	for _, v := range []struct {
		set  bool
		name string
	}{
		{c.AuthURL != "", "OS_AUTH_URL"},
		{c.Username != "", "OS_USERNAME"},
		{c.Password != "", "OS_PASSWORD"},
		{c.UserDomainName != "", "OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME)"},
		{c.ProjectID != "" || c.ProjectName != "", "OS_PROJECT_ID (or OS_PROJECT_NAME)"},
	} {
		if !v.set {
			missing = append(missing, v.name)
		}
	}
	return missing
}

// and joins names as "A, B and C".
func and(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
