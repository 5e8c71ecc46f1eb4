package term

import (
	"strings"
	"testing"
)

func TestStatusLineKeepsBarBelowLogs(t *testing.T) {
	var out strings.Builder
	s := NewStatusLine(&out)
	_, _ = s.Write([]byte("before\n"))
	s.Set("[==  ] 1/2")
	_, _ = s.Write([]byte("log line\n"))
	s.Clear()
	want := "before\n\r\x1b[K[==  ] 1/2\r\x1b[Klog line\n[==  ] 1/2\r\x1b[K"
	if out.String() != want {
		t.Errorf("terminal output = %q, want %q", out.String(), want)
	}
}

// TestStatusLineFitsWidth: a status line wider than the terminal is cut
// to one column less (a line that wraps cannot be redrawn in place).
func TestStatusLineFitsWidth(t *testing.T) {
	var out strings.Builder
	s := NewStatusLine(&out)
	s.Width = func() int { return 12 }
	s.Set("[====] 1/2 done, 3 in flight")
	s.Set("[==] ok")
	want := "\r\x1b[K[====] 1/2…\r\x1b[K[==] ok"
	if out.String() != want {
		t.Errorf("terminal output = %q, want %q", out.String(), want)
	}
}
