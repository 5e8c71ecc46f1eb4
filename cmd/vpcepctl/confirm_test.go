package main

import (
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/plan"
)

func TestConfirm(t *testing.T) {
	p := &plan.Plan{Summary: plan.Summary{Create: 2, Delete: 1}}
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"yes\n", true},
		{"  yes  \n", true},
		{"y\n", false},
		{"YES\n", false},
		{"no\n", false},
		{"", false},
	} {
		var out strings.Builder
		got, _ := confirm(strings.NewReader(tt.in), &out, p, "apply")
		if got != tt.want {
			t.Errorf("confirm(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if !strings.Contains(out.String(), "Apply 3 changes?") {
			t.Errorf("prompt = %q, want it to count 3 changes", out.String())
		}
	}
}

// TestConfirmWording: the question counts in the right number.
func TestConfirmWording(t *testing.T) {
	for _, tt := range []struct {
		command string
		n       int
		want    string
	}{
		{"apply", 1, "Apply 1 change? "},
		{"apply", 2, "Apply 2 changes? "},
		{"destroy", 1, "Destroy 1 endpoint? "},
		{"destroy", 3, "Destroy 3 endpoints? "},
	} {
		var out strings.Builder
		_, _ = confirm(strings.NewReader("no\n"), &out, &plan.Plan{Summary: plan.Summary{Delete: tt.n}}, tt.command)
		if !strings.HasPrefix(out.String(), tt.want) {
			t.Errorf("%s of %d: %q, want %q", tt.command, tt.n, out.String(), tt.want)
		}
	}
}
