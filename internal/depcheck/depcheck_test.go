// Package depcheck keeps vpcepctl's layering (docs/architecture.md): the
// wire package and plan hold no HTTP client, the simulator shares only
// the wire package with vpcepctl, manifests stands alone, and imports go
// one way, from the command down.
package depcheck

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/vpcepctl/vpcepctl"

// deps returns the import closure of pkg (go list -deps), test files
// excluded.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// ours returns the project's packages in list, without the module prefix.
func ours(list []string, self string) []string {
	var out []string
	for _, p := range list {
		if rel, ok := strings.CutPrefix(p, module+"/"); ok && rel != self {
			out = append(out, rel)
		}
	}
	return out
}

func TestNoHTTPBelowTheClient(t *testing.T) {
	banned := []string{"net/http", "crypto/hmac", "github.com/hashicorp/go-retryablehttp"}
	for _, pkg := range []string{"vpcep", "plan", "manifests"} {
		for _, d := range deps(t, pkg) {
			if slices.Contains(banned, d) {
				t.Errorf("%s imports %s (directly or not): the wire and plan layers do no I/O", pkg, d)
			}
		}
	}
}

func TestProjectImports(t *testing.T) {
	tests := []struct {
		pkg     string
		allowed []string // the project's packages pkg may import, directly or not
	}{
		{"manifests", nil},
		{"vpcep", nil},
		{"sim", []string{"vpcep"}},
		{"plan", []string{"manifests", "vpcep"}},
		{"otc", []string{"vpcep"}},
		{"apply", []string{"manifests", "otc", "plan", "vpcep"}},
		{"metrics", []string{"apply", "internal/outfile", "manifests", "otc", "plan", "vpcep"}},
		{"reconcile", []string{"apply", "internal/outfile", "manifests", "metrics", "otc", "plan", "vpcep"}},
		{"internal/outfile", nil},
		{"internal/term", nil},
	}
	for _, tt := range tests {
		for _, d := range ours(deps(t, tt.pkg), tt.pkg) {
			if !slices.Contains(tt.allowed, d) {
				t.Errorf("%s imports %s (directly or not); it may import only %v", tt.pkg, d, tt.allowed)
			}
		}
	}
}

// TestTestkitOnlyInTests: the test helpers never reach the binary.
func TestTestkitOnlyInTests(t *testing.T) {
	for _, d := range deps(t, "cmd/vpcepctl") {
		if d == module+"/internal/testkit" {
			t.Error("cmd/vpcepctl imports internal/testkit outside its tests")
		}
	}
}
