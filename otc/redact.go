package otc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// This file holds the redaction policy: one Redactor per run holds every
// secret the run knows, the ones it was given (password, token, secret
// key, security token, a Pushgateway password) and the ones it learns (the
// IAM tokens it fetches). Errors, log records, reports and plan files pass
// through it before anyone sees them. Secrets are never put into messages
// in the first place; redaction scrubs what a server echoes back.

// Redacted replaces a secret in redacted text.
const Redacted = "[REDACTED]"

// minRedactLen is the length under which a secret is not redacted by
// substring. A secret of a few characters (OS_PASSWORD=e) is no realistic
// password, and replacing it wherever it occurs would garble every message
// ("The username" would read "Th[REDACTED] us[REDACTED]rnam[REDACTED]")
// and, by the gaps, show the secret. Real passwords, tokens and keys are
// far longer.
const minRedactLen = 6

// Redactor is a growing set of secrets and the one place that removes
// them from text. It is safe for concurrent use; a nil *Redactor redacts
// nothing.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // with their JSON-escaped spellings, longest first
	common  int      // secrets not redacted: words vpcepctl itself writes
}

// vocabulary holds the words vpcepctl's own documents, logs and metrics
// are made of. A secret found in it is not redacted (see Add).
const vocabulary = "vpcepctl vpcepctl-set vpcepctl-name vpcepctl_api_requests_total vpcepctl_changes_total " +
	"format_version fingerprint targets region project_id summary changes action set name reason desired current " +
	"kept_id scope shard adopt prune allow_replace approve sets natural_keys endpoint_service_id endpoint_service_name " +
	"vpc_id subnet_id quota used observed digest create tag replace delete conflict noop started_at finished_at " +
	"succeeded failed skipped awaiting_approval results status attempts error creating accepted pendingAcceptance " +
	"rejected deleting interface gateway endpoints total_count description whitelist enable_whitelist enable_dns " +
	"routetables policy_statement specification_name tags key value"

// Unredacted returns how many secrets were not added because they are
// words vpcepctl itself writes: redacting them would garble its output.
func (r *Redactor) Unredacted() int {
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.common
}

// NewRedactor returns a Redactor that knows secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add adds secrets to the set. Secrets shorter than six bytes are not
// added (see minRedactLen). Each is also added as JSON spells it inside a
// string, so a JSON document or log line is scrubbed as well.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) < minRedactLen {
			continue
		}
		if strings.Contains(vocabulary, s) {
			// Replacing it would garble every document (a plan file apply
			// then refuses) and, by the gaps, show it anyway.
			r.common++
			continue
		}
		// The secret, and as it reads quoted: in JSON, by strconv.Quote (a
		// plan reason quotes tag values), and the JSON of that (the reason
		// inside a JSON plan).
		quoted := strconv.Quote(s)
		forms := []string{s, jsonInner(s), quoted[1 : len(quoted)-1], jsonInner(quoted[1 : len(quoted)-1])}
		for _, f := range forms {
			if f != "" && !slices.Contains(r.secrets, f) {
				r.secrets = append(r.secrets, f)
			}
		}
	}
	// Longest first: a secret that contains another is replaced whole.
	slices.SortStableFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// jsonInner is s as JSON spells it inside a string.
func jsonInner(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	return string(b[1 : len(b)-1])
}

// Redact returns s with every known secret replaced by [REDACTED].
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// Error returns err with a redacted text; errors.Is and errors.As still
// see the original chain. A nil err stays nil.
func (r *Redactor) Error(err error) error {
	if err == nil || r == nil {
		return err
	}
	return &redactedError{err: err, text: r.Redact(err.Error())}
}

type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// Writer returns a writer that redacts each Write before passing it to w.
// Every writer of this program writes a line or a document per Write, so a
// secret is never split across two of them.
func (r *Redactor) Writer(w io.Writer) io.Writer { return &redactWriter{r: r, w: w} }

type redactWriter struct {
	r *Redactor
	w io.Writer
}

// Unwrap returns the writer written to (a terminal check looks at it).
func (rw *redactWriter) Unwrap() io.Writer { return rw.w }

func (rw *redactWriter) Write(p []byte) (int, error) {
	s := rw.r.Redact(string(p))
	if _, err := io.WriteString(rw.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Handler returns a slog.Handler that redacts the message and every
// attribute (strings, errors, and anything that prints a secret) before
// h sees the record.
func (r *Redactor) Handler(h slog.Handler) slog.Handler {
	if rh, ok := h.(*redactHandler); ok && rh.r == r {
		return h
	}
	return &redactHandler{r: r, next: h}
}

type redactHandler struct {
	r    *Redactor
	next slog.Handler
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &redactHandler{r: h.r, next: h.next.WithAttrs(red)}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{r: h.r, next: h.next.WithGroup(name)}
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(h.r.Redact(a.Value.String()))
	case slog.KindGroup:
		g := a.Value.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		a.Value = slog.GroupValue(red...)
	case slog.KindAny:
		v := a.Value.Any()
		if err, ok := v.(error); ok {
			a.Value = slog.StringValue(h.r.Redact(err.Error()))
			break
		}
		// Anything else is kept as it is unless its printed form shows a
		// secret (a struct a handler would print field by field).
		s := fmt.Sprintf("%+v", v)
		if red := h.r.Redact(s); red != s {
			a.Value = slog.StringValue(red)
		}
	}
	return a
}
