package otc_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/otc"
)

// TestCredentialsMissing: incomplete credentials name, in one line, the
// variables missing for the mode the ones that are set point at.
func TestCredentialsMissing(t *testing.T) {
	const (
		password = "credentials: password authentication needs "
		none     = "credentials: none found; set OS_CLOUD (an entry of clouds.yaml), " +
			"or OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_USER_DOMAIN_NAME and OS_PROJECT_ID or OS_PROJECT_NAME (password), " +
			"or OS_AUTH_TOKEN with --endpoint (token), or OS_ACCESS_KEY and OS_SECRET_KEY (AK/SK); " +
			"or try vpcepctl with --sim, against its built-in simulator"
	)
	tests := []struct {
		name  string
		creds otc.Credentials
		want  string
	}{
		{"only OS_AUTH_URL", otc.Credentials{AuthURL: "https://iam.eu-de.otc.t-systems.com/v3"},
			password + "OS_USERNAME, OS_PASSWORD, OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME) and OS_PROJECT_ID (or OS_PROJECT_NAME)"},
		{"only OS_USERNAME", otc.Credentials{Username: "u"},
			password + "OS_AUTH_URL, OS_PASSWORD, OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME) and OS_PROJECT_ID (or OS_PROJECT_NAME)"},
		{"only OS_PROJECT_NAME", otc.Credentials{ProjectName: "eu-de_p", Region: "eu-de"},
			password + "OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME)"},
		{"no password", otc.Credentials{AuthURL: "https://iam/v3", Username: "u", UserDomainName: "d", ProjectID: testPID},
			password + "OS_PASSWORD"},
		{"password without the domain", otc.Credentials{AuthURL: "https://iam/v3", Username: "u", Password: "p", ProjectID: testPID},
			password + "OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME)"},
		{"only OS_ACCESS_KEY", otc.Credentials{AccessKey: "AK", ProjectID: testPID},
			"credentials: AK/SK authentication needs OS_SECRET_KEY"},
		{"only OS_SECRET_KEY", otc.Credentials{SecretKey: "secret-key-value"},
			"credentials: AK/SK authentication needs OS_ACCESS_KEY"},
		{"only OS_SECURITY_TOKEN", otc.Credentials{SecurityToken: "security-token-value"},
			"credentials: AK/SK authentication needs OS_ACCESS_KEY and OS_SECRET_KEY"},
		{"two modes begun", otc.Credentials{AuthURL: "https://iam/v3", Username: "u", AccessKey: "AK"},
			password + "OS_PASSWORD, OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME) and OS_PROJECT_ID (or OS_PROJECT_NAME); " +
				"AK/SK authentication needs OS_SECRET_KEY"},
		{"nothing", otc.Credentials{}, none},
		{"only what every mode shares", otc.Credentials{ProjectID: testPID, Region: "eu-de"}, none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.creds.Validate()
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate() = %v\nwant %s", err, tt.want)
			}
			var ce *otc.ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("Validate() = %v (%T), want a *otc.ConfigError", err, err)
			}
		})
	}
}

// TestCloudNotFound: a cloud missing from clouds.yaml is one line that
// lists the files read and the clouds in each, or where there was none.
func TestCloudNotFound(t *testing.T) {
	home := t.TempDir()
	system := filepath.Join(t.TempDir(), "none", "clouds.yaml")
	defer otc.SetSystemClouds(system)()
	user := filepath.Join(home, ".config", "openstack", "clouds.yaml")
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	writeFile(t, empty, "clouds: {}\n")
	env := func(kv ...string) func(string) string {
		m := map[string]string{"HOME": home}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	t.Chdir(t.TempDir())

	_, err := otc.CredentialsFromEnv(env(), "prod")
	want := `clouds.yaml: cloud "prod" not found: no clouds.yaml in ./clouds.yaml, ` + user + `, ` + system +
		` (OS_CLIENT_CONFIG_FILE names another file)`
	checkOneLine(t, "no clouds.yaml", err, want)

	writeFile(t, user, "clouds:\n  staging:\n    auth: {auth_url: https://iam/v3}\n  dev: {}\n")
	writeFile(t, "clouds.yaml", "clouds:\n  Prod: {}\n")
	_, err = otc.CredentialsFromEnv(env("OS_CLOUD", "prod", "OS_CLIENT_CONFIG_FILE", empty), "")
	want = `clouds.yaml: cloud "prod" not found in ` + empty + ` (no clouds) or ./clouds.yaml (clouds: "Prod") or ` +
		user + ` (clouds: "dev", "staging"); set OS_CLOUD or --cloud to one of those`
	checkOneLine(t, "files without the cloud", err, want)
}

func checkOneLine(t *testing.T, name string, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("%s: CredentialsFromEnv error = %v\nwant %s", name, err, want)
	}
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: error %q is more than one line", name, err)
	}
	var ce *otc.ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("%s: error %v (%T) is not a *otc.ConfigError", name, err, err)
	}
}
