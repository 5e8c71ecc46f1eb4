package otc_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/otc"
)

// TestRedactor: one set that grows, scrubs plain and JSON-escaped
// spellings, leaves short values alone, and covers errors, writers and
// log records (message, attributes, groups, errors, structs).
func TestRedactor(t *testing.T) {
	const (
		given   = "given-password-0123"
		learned = "learned-token-0123456789"
		quoted  = `pa"ss<wo>rd&0123`
	)
	r := otc.NewRedactor(given, "short")
	want(t, "before learning", r.Redact(given+" "+learned), "[REDACTED] "+learned)
	r.Add(learned, quoted)
	want(t, "after learning", r.Redact(given+" "+learned), "[REDACTED] [REDACTED]")
	want(t, "short values stay", r.Redact("short"), "short")
	want(t, "JSON-escaped", r.Redact(`{"msg":"pa\"ss\u003cwo\u003erd\u00260123"}`), `{"msg":"[REDACTED]"}`)
	want(t, "longest first", otc.NewRedactor("abcdef", "abcdefgh").Redact("abcdefgh"), "[REDACTED]")

	var nilR *otc.Redactor
	want(t, "nil Redactor", nilR.Redact(given), given)

	cause := &otc.APIError{Op: otc.OpGet, Status: 400, Message: "echo " + learned}
	err := r.Error(fmt.Errorf("wrapped: %w", cause))
	want(t, "Error text", err.Error(), "wrapped: get: HTTP 400: echo [REDACTED]")
	if !errors.As(err, new(*otc.APIError)) {
		t.Errorf("Error(%v) lost the chain", err)
	}

	var out bytes.Buffer
	w := r.Writer(&out)
	n, werr := w.Write([]byte("line with " + learned + "\n"))
	want(t, "Writer count", n, len("line with "+learned+"\n"))
	want(t, "Writer error", werr, nil)
	want(t, "Writer output", out.String(), "line with [REDACTED]\n")

	for _, format := range []string{"text", "json"} {
		var logs bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&logs, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&logs, nil)
		}
		log := slog.New(r.Handler(h)).With("user", "given "+given)
		log.WithGroup("g").Info("message "+learned,
			"err", cause,
			"s", learned,
			slog.Group("grp", "inner", quoted),
			"struct", struct{ Secret string }{learned},
			"pathErr", &fs.PathError{Op: "open", Path: given, Err: fs.ErrNotExist})
		text := logs.String()
		for _, sec := range []string{given, learned, quoted, `pa\"ss`} {
			if strings.Contains(text, sec) {
				t.Errorf("%s log shows %q:\n%s", format, sec, text)
			}
		}
		if strings.Count(text, "[REDACTED]") < 7 {
			t.Errorf("%s log: want every attribute redacted:\n%s", format, text)
		}
	}
}
