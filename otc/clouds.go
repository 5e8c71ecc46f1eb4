package otc

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file reads credentials the OpenStack way: OS_CLOUD and clouds.yaml,
// then the OS_* variables over them.

// systemClouds is the system-wide clouds.yaml (a variable so that tests
// never read the machine's own).
var systemClouds = "/etc/openstack/clouds.yaml"

// CloudsPaths are the places clouds.yaml is looked for, in order (the
// file named by OS_CLIENT_CONFIG_FILE comes before them).
func CloudsPaths(home string) []string {
	return []string{
		"clouds.yaml",
		filepath.Join(home, ".config", "openstack", "clouds.yaml"),
		systemClouds,
	}
}

// CredentialsFromEnv reads credentials the OpenStack way: cloud (or
// OS_CLOUD) selects an entry of clouds.yaml (OS_CLIENT_CONFIG_FILE, then
// CloudsPaths; the first file that has the cloud), and OS_* variables fill
// in or override its values. getenv is os.Getenv in production. A cloud
// that cannot be found or read is a *ConfigError.
func CredentialsFromEnv(getenv func(string) string, cloud string) (Credentials, error) {
	var c Credentials
	if cloud == "" {
		cloud = getenv("OS_CLOUD")
	}
	if cloud != "" {
		home, _ := os.UserHomeDir()
		if h := getenv("HOME"); h != "" {
			home = h
		}
		paths := CloudsPaths(home)
		if f := getenv("OS_CLIENT_CONFIG_FILE"); f != "" {
			paths = append([]string{f}, paths...)
		}
		cc, err := loadCloud(paths, cloud)
		if err != nil {
			return c, err
		}
		c = cc
	}
	set := func(dst *string, keys ...string) {
		for _, k := range keys {
			if v := getenv(k); v != "" {
				*dst = v
				return
			}
		}
	}
	set(&c.AuthURL, "OS_AUTH_URL")
	set(&c.Username, "OS_USERNAME")
	set(&c.Password, "OS_PASSWORD")
	set(&c.UserDomainName, "OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME")
	set(&c.ProjectID, "OS_PROJECT_ID", "OS_TENANT_ID")
	set(&c.ProjectName, "OS_PROJECT_NAME", "OS_TENANT_NAME")
	set(&c.Region, "OS_REGION_NAME")
	set(&c.Token, "OS_AUTH_TOKEN")
	set(&c.AccessKey, "OS_ACCESS_KEY", "OS_ACCESS_KEY_ID")
	set(&c.SecretKey, "OS_SECRET_KEY", "OS_SECRET_ACCESS_KEY")
	set(&c.SecurityToken, "OS_SECURITY_TOKEN")
	set(&c.TLS.CACert, "OS_CACERT")
	set(&c.TLS.Cert, "OS_CERT")
	set(&c.TLS.Key, "OS_KEY")
	if c.Region == "" && c.ProjectName != "" {
		// OTC project names start with the region: eu-de_myproject.
		if i := strings.IndexByte(c.ProjectName, '_'); i > 0 {
			c.Region = c.ProjectName[:i]
		} else {
			c.Region = c.ProjectName
		}
	}
	return c, nil
}

// cloudsFile is what vpcepctl reads of a clouds.yaml.
type cloudsFile struct {
	Clouds map[string]cloudEntry `yaml:"clouds"`
}

type cloudEntry struct {
	Auth struct {
		AuthURL        string `yaml:"auth_url"`
		Username       string `yaml:"username"`
		Password       string `yaml:"password"`
		UserDomainName string `yaml:"user_domain_name"`
		DomainName     string `yaml:"domain_name"`
		ProjectID      string `yaml:"project_id"`
		ProjectName    string `yaml:"project_name"`
		Token          string `yaml:"token"`
		AK             string `yaml:"ak"`
		SK             string `yaml:"sk"`
		AccessKey      string `yaml:"access_key"`
		SecretKey      string `yaml:"secret_key"`
		SecurityToken  string `yaml:"security_token"`
	} `yaml:"auth"`
	RegionName string `yaml:"region_name"`
	CACert     string `yaml:"cacert"`
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	Verify     any    `yaml:"verify"` // false, or (as requests takes it) a CA file
	Insecure   any    `yaml:"insecure"`
}

// loadCloud returns the credentials of cloud name from the first of paths
// that has it. Not finding it is one line that names the files read and
// the clouds each holds, or the places looked at when there was no file.
func loadCloud(paths []string, name string) (Credentials, error) {
	var read []string // "FILE (clouds: ...)" of each file without the cloud
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return Credentials{}, &ConfigError{Msg: "clouds.yaml", Err: err}
		}
		var doc cloudsFile
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return Credentials{}, configErrorf("%s: not a valid clouds.yaml", p)
		}
		if cl, ok := doc.Clouds[name]; ok {
			return cl.credentials(), nil
		}
		read = append(read, displayPath(p)+" ("+cloudNames(doc.Clouds)+")")
	}
	if len(read) == 0 {
		shown := make([]string, len(paths))
		for i, p := range paths {
			shown[i] = displayPath(p)
		}
		return Credentials{}, configErrorf("clouds.yaml: cloud %q not found: no clouds.yaml in %s (OS_CLIENT_CONFIG_FILE names another file)",
			name, strings.Join(shown, ", "))
	}
	return Credentials{}, configErrorf("clouds.yaml: cloud %q not found in %s; set OS_CLOUD or --cloud to one of those",
		name, strings.Join(read, " or "))
}

// cloudNames lists the clouds of a file for a message.
func cloudNames(clouds map[string]cloudEntry) string {
	if len(clouds) == 0 {
		return "no clouds"
	}
	const max = 20
	names := slices.Sorted(maps.Keys(clouds))
	more := ""
	if len(names) > max {
		more = fmt.Sprintf(" and %d more", len(names)-max)
		names = names[:max]
	}
	for i, n := range names {
		names[i] = strconv.Quote(n)
	}
	return "clouds: " + strings.Join(names, ", ") + more
}

// displayPath shows a relative path as one: ./clouds.yaml, not clouds.yaml.
func displayPath(p string) string {
	if filepath.IsAbs(p) || strings.HasPrefix(p, ".") {
		return p
	}
	return "." + string(filepath.Separator) + p
}

func (cl cloudEntry) credentials() Credentials {
	a := cl.Auth
	c := Credentials{
		AuthURL: a.AuthURL, Username: a.Username, Password: a.Password,
		UserDomainName: firstNonEmpty(a.UserDomainName, a.DomainName),
		ProjectID:      a.ProjectID, ProjectName: a.ProjectName, Region: cl.RegionName,
		Token: a.Token, AccessKey: firstNonEmpty(a.AK, a.AccessKey), SecretKey: firstNonEmpty(a.SK, a.SecretKey),
		SecurityToken: a.SecurityToken,
		TLS:           TLS{CACert: cl.CACert, Cert: cl.Cert, Key: cl.Key},
	}
	switch v := cl.Verify.(type) {
	case bool:
		c.TLS.Insecure = !v
	case string:
		if b, ok := yamlBool(v); ok {
			c.TLS.Insecure = !b
		} else if c.TLS.CACert == "" {
			c.TLS.CACert = v
		}
	}
	if b, ok := yamlBool(fmt.Sprint(cl.Insecure)); ok && cl.Insecure != nil {
		c.TLS.Insecure = c.TLS.Insecure || b
	}
	return c
}

// yamlBool reads a boolean as openstacksdk's YAML 1.1 reader does: true,
// yes, on, false, no, off (any case), besides what strconv takes.
func yamlBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "on", "y":
		return true, true
	case "no", "off", "n":
		return false, true
	}
	b, err := strconv.ParseBool(s)
	return b, err == nil
}
