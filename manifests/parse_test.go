package manifests

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestErrorFormat(t *testing.T) {
	e := &Error{Pos{"a.yaml", 3, 7}, "vpc_id: want a UUID"}
	if got, want := e.Error(), "a.yaml:3:7: vpc_id: want a UUID"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (Pos{Line: 1, Col: 2}).String(), "1:2"; got != want {
		t.Errorf("Pos{}.String() = %q, want %q", got, want)
	}
	var err error = e
	var me *Error
	if !errors.As(fmt.Errorf("wrapped: %w", err), &me) || me.Line != 3 {
		t.Errorf("errors.As(*Error) failed")
	}
}

// TestLimits checks values at and just over each limit.
func TestLimits(t *testing.T) {
	list := func(n int, f func(i int) string) string {
		var s []string
		for i := range n {
			s = append(s, f(i))
		}
		return "[" + strings.Join(s, ", ") + "]"
	}
	tags := func(n int) string {
		return "{" + strings.TrimSuffix(strings.TrimPrefix(list(n, func(i int) string { return fmt.Sprintf("k%d: v", i) }), "["), "]") + "}"
	}
	stmt := `{Effect: Allow, Action: ["obs:*:*"], Resource: ["obs:*:*:*:*"]}`
	for _, tt := range []struct {
		name, field, ok, over, want string
	}{
		{"whitelist", "whitelist", list(20, func(i int) string { return fmt.Sprintf("10.0.%d.0/24", i) }),
			list(21, func(i int) string { return fmt.Sprintf("10.0.%d.0/24", i) }), "whitelist: 21 entries, want at most 20"},
		{"policy", "policy_statement", list(10, func(int) string { return stmt }),
			list(11, func(int) string { return stmt }), "policy_statement: 11 statements, want at most 10"},
		{"tags", "tags", tags(18), tags(19), "tags: 19 tags, want at most 18"},
		{"description", "description", strings.Repeat("d", 128), strings.Repeat("d", 129), "description: 129 characters, want at most 128"},
		{"tag key", "tags", "{" + strings.Repeat("k", 36) + ": v}", "{" + strings.Repeat("k", 37) + ": v}", "tags: want a tag key of 1 to 36"},
		{"tag value", "tags", "{k: " + strings.Repeat("v", 43) + "}", "{k: " + strings.Repeat("v", 44) + "}", "tags.k: want a tag value of 0 to 43"},
		{"name", "name", strings.Repeat("n", 43), strings.Repeat("n", 44), "name: want an endpoint name of 1 to 43"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := func(v string) []byte {
				body := "    " + tt.field + ": " + v + "\n"
				if tt.field != "name" {
					body = "    name: e\n" + body
				}
				return []byte("version: 1\nset: s\nendpoints:\n  - vpc_id: " + testVPC + "\n    endpoint_service_id: " + testService + "\n" + body)
			}
			if _, err := parse("m.yaml", doc(tt.ok)); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			_, err := parse("m.yaml", doc(tt.over))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("over the limit: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestAliases checks that aliases cannot make the loader loop or blow up.
func TestAliases(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("version: 1\nset: s\nx: &a0 [10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.7, 10.0.0.8, 10.0.0.9, 10.0.0.10]\n")
	bomb.WriteString("endpoints: &e1\n")
	for i := range 2000 {
		fmt.Fprintf(&bomb, "  - {name: e%d, vpc_id: %s, endpoint_service_id: %s, whitelist: *a0, policy_statement: &p%d [{Effect: Allow, Action: *a0, Resource: *a0}]}\n", i, testVPC, testService, i)
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"self reference", "version: 1\nset: s\nendpoints: &a [*a]\n", "m.yaml:3:12: endpoints[0]: want an endpoint (a mapping with name, vpc_id, ...), got a list"},
		{"self merge", "version: 1\nset: s\nendpoints:\n  - &a {name: a, <<: *a}\n", "m.yaml:4:18: yaml: merge keys (<<) nested more than 8 deep (does an anchor merge itself?)"},
		{"merge loop", "version: 1\nset: s\nd: &d {x: 1}\nendpoints:\n  - &a\n    <<: [*d]\n    name: a\n", "unknown key \"d\""},
		{"many aliases", bomb.String(), "unknown key \"x\" in manifest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := parse("m.yaml", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Parse took %v", d)
			}
		})
	}
}

// TestAliasBudget checks that a document that expands to far more nodes
// than it has is stopped with a positioned error.
func TestAliasBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nset: s\nendpoints:\n")
	b.WriteString("  - &e {name: e, vpc_id: " + testVPC + ", endpoint_service_id: " + testService + ", tags: &t {")
	for i := range 18 {
		fmt.Fprintf(&b, "k%d: v, ", i)
	}
	b.WriteString("}}\n")
	// 10 aliases of the endpoint, each in a list aliased 10 times, ...:
	// yaml.v3 keeps aliases as references, the walk would expand them.
	b.WriteString("  - <<: [")
	for i := range 400 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*e")
	}
	b.WriteString("]\n    name: f\n")
	p := &parser{file: "m.yaml", budget: 1000}
	ms, errs := parseFileWith(p, []byte(b.String()))
	_ = ms
	found := false
	for _, e := range errs {
		if strings.Contains(e.Msg, "too many aliases") {
			found = true
			if e.Line < 1 {
				t.Errorf("budget error without a line: %v", e)
			}
		}
	}
	if !found {
		t.Errorf("errors = %v, want one about too many aliases", errs)
	}
}

func TestDocuments(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		sets      string
		err       string
	}{
		{"comment-only documents are skipped", "# c\n---\n" + manifest("a") + "---\n# only a comment\n---\n" + manifest("b"), "a,b", ""},
		{"explicit end", manifest("a") + "...\n# trailing\n", "a", ""},
		{"empty documents", "---\n---\n", "", "m.yaml:1:1: no manifests in file (only comments or empty documents), want a manifest with version, set and endpoints"},
		{"null document", "---\n~\n", "", "m.yaml:2:1: want a manifest (a mapping with version, set and endpoints), got no value"},
		{"utf-8 bom", "\ufeff" + manifest("a"), "a", ""},
		{"errors of every document", "version: 2\nset: a\nendpoints: []\n---\nversion: 1\nset: b b\nendpoints: []\n", "",
			"m.yaml:1:10: version: want 1, got 2\nm.yaml:6:6: set: want a set name of 1 to 36 letters, digits, \"_\" or \"-\", got \"b b\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := parse("m.yaml", []byte(tt.doc))
			if got := errText(err); tt.err != "" && got != tt.err || tt.err == "" && err != nil {
				t.Fatalf("Parse error = %q, want %q", got, tt.err)
			}
			if got := sets(ms); got != tt.sets {
				t.Errorf("sets = %q, want %q", got, tt.sets)
			}
		})
	}
}

// TestSyntaxPositions checks where YAML syntax errors are reported: at
// the problem, not where yaml.v3 says (the enclosing block, or a line early).
func TestSyntaxPositions(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"a: 1\nb: 2\nc: 3\n- d\n", "m.yaml:4:1: yaml: did not find the expected key: check the indentation"},
		{"a: b: c\n", "m.yaml:1:5: yaml: unexpected \":\" here: quote a value that contains \": \", or fix the indentation"},
		{"a:\n  - x: 1\n    y: 2\n   z: 3\n", "m.yaml:4:4: yaml: did not find the expected \"-\" of a list item: check the indentation"},
		{"\ta: 1\n", "m.yaml:1:1: yaml: tab character: indent with spaces, YAML does not allow tabs here"},
		{"a: `x`\n", "m.yaml:1:4: yaml: a plain value cannot start with '`', quote the value"},
		{"a: 'x\n", "m.yaml:1:4: yaml: unexpected end of file: a quote or bracket is not closed"},
		{"a: {b: 1\n", "m.yaml:1:8: yaml: did not find expected ',' or '}'"},
		{"a: !!binary %%%\n", "m.yaml:1:13: yaml: a plain value cannot start with '%', quote the value"},
	} {
		_, err := parse("m.yaml", []byte(tt.doc))
		if got := errText(err); got != tt.want {
			t.Errorf("parse(%q) =\n%s\nwant:\n%s", tt.doc, got, tt.want)
		}
	}
}

func TestSplitYAMLError(t *testing.T) {
	for _, tt := range []struct {
		in   string
		msg  string
		line int
	}{
		{"yaml: line 3: did not find expected key", "did not find expected key", 3},
		{"yaml: found character that cannot start any token", "found character that cannot start any token", 0},
		{"yaml: line x: odd", "line x: odd", 0},
		{"other", "other", 0},
	} {
		msg, line := splitYAMLError(errors.New(tt.in))
		if msg != tt.msg || line != tt.line {
			t.Errorf("splitYAMLError(%q) = %q, %d; want %q, %d", tt.in, msg, line, tt.msg, tt.line)
		}
	}
}

// TestSyntaxPositionsLargeFile checks the position of a syntax error at
// the end of a long document, found precisely within the parse budget and
// to its line past it.
func TestSyntaxPositionsLargeFile(t *testing.T) {
	data := append(generate(2000), "  - name: a\n   vpc_id: b\n"...)
	want := "big.yaml:10011:4: yaml: did not find the expected \"-\" of a list item: check the indentation"
	if _, err := parse("big.yaml", data); errText(err) != want {
		t.Errorf("Parse = %v, want %s", err, want)
	}
	data = append(generate(2000), "  - name: [a\n"...)
	want = "big.yaml:10010:12: yaml: did not find expected ',' or ']'"
	if _, err := parse("big.yaml", data); errText(err) != want {
		t.Errorf("Parse = %v, want %s", err, want)
	}

	defer func(n int) { maxLocateBytes = n }(maxLocateBytes)
	maxLocateBytes = len(data)
	want = "big.yaml:10010:3: yaml: did not find expected ',' or ']'"
	if _, err := parse("big.yaml", data); errText(err) != want {
		t.Errorf("Parse over budget = %v, want %s", err, want)
	}
}
