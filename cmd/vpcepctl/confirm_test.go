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
		got, _ := confirm(strings.NewReader(tt.in), &out, p)
		if got != tt.want {
			t.Errorf("confirm(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if !strings.Contains(out.String(), "Apply 3 changes?") {
			t.Errorf("prompt = %q, want it to count 3 changes", out.String())
		}
	}
}

func TestStatusLineKeepsBarBelowLogs(t *testing.T) {
	var out strings.Builder
	s := &statusLine{w: &out}
	_, _ = s.Write([]byte("before\n"))
	s.set("[==  ] 1/2")
	_, _ = s.Write([]byte("log line\n"))
	s.clear()
	want := "before\n\r\x1b[K[==  ] 1/2\r\x1b[Klog line\n[==  ] 1/2\r\x1b[K"
	if out.String() != want {
		t.Errorf("terminal output = %q, want %q", out.String(), want)
	}
}
