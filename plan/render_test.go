package plan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

func TestSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		s    Summary
		want string
	}{
		{Summary{Create: 3, Tag: 1, Conflict: 2, Noop: 40}, "Plan: 3 to create, 1 to tag, 0 to replace, 0 to adopt, 0 to approve, 0 to delete, 2 conflicts, 40 unchanged."},
		{Summary{}, "Plan: 0 to create, 0 to tag, 0 to replace, 0 to adopt, 0 to approve, 0 to delete, 0 conflicts, 0 unchanged."},
		{Summary{Replace: 1, Adopt: 2, Delete: 3, Conflict: 1, Noop: 1}, "Plan: 0 to create, 0 to tag, 1 to replace, 2 to adopt, 0 to approve, 3 to delete, 1 conflict, 1 unchanged."},
	} {
		if got := SummaryLine(tc.s); got != tc.want {
			t.Errorf("SummaryLine(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestWriteTextOneTarget(t *testing.T) {
	in := scenario()[1] // target A
	p, err := Diff([]Input{in}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := text(p)
	if strings.Contains(got, targetA.String()) {
		t.Errorf("one target: the target is named:\n%s", got)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != len(p.Changes)+3 { // the --prune line, the awaiting approval line and the summary
		t.Errorf("%d lines for %d changes:\n%s", len(lines), len(p.Changes), got)
	}
	if want := "    ! payments/app-drift ep-drift (forces replacement: port_ip 10.0.0.10 -> 10.0.0.30, "; !strings.Contains(got, "\n"+strings.TrimPrefix(want, "  ")) {
		t.Errorf("no line %q in\n%s", want, got)
	}
	if want := "2 owned endpoints are no longer declared; --prune deletes them.\n"; !strings.Contains(got, want) {
		t.Errorf("no line %q in\n%s", want, got)
	}
	for _, unchanged := range []string{"app-ok", "app-creating", "app-pending", "search/obs"} {
		if strings.Contains(got, unchanged) {
			t.Errorf("unchanged %s is listed:\n%s", unchanged, got)
		}
	}
}

func TestWriteTextNoChanges(t *testing.T) {
	p, err := Diff([]Input{{Target: targetA}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := text(p), "Plan: 0 to create, 0 to tag, 0 to replace, 0 to adopt, 0 to approve, 0 to delete, 0 conflicts, 0 unchanged.\n"; got != want {
		t.Errorf("WriteText(no changes) = %q, want %q", got, want)
	}
	p.Unpruned = 1
	if got := text(p); !strings.HasPrefix(got, "1 owned endpoint is no longer declared; --prune deletes it.\n") {
		t.Errorf("WriteText(1 unpruned) = %q", got)
	}
}

// TestJSONDocument checks the plan document's keys against DESIGN.md.
func TestJSONDocument(t *testing.T) {
	p, err := Diff(scenario(), Options{Adopt: true, Prune: true, AllowReplace: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	// DESIGN.md's keys, what a plan file records to be checked against a
	// fresh listing (scope, observed), and the advice under the text
	// (unpruned, awaiting_approval, when not 0).
	delete(doc, "unpruned")
	delete(doc, "awaiting_approval")
	if got, want := keys(doc), []string{"changes", "fingerprint", "format_version", "observed", "scope", "summary", "targets"}; !reflect.DeepEqual(got, want) {
		t.Errorf("document keys %v, want %v", got, want)
	}
	var summary map[string]json.RawMessage
	json.Unmarshal(doc["summary"], &summary)
	if got, want := keys(summary), []string{"adopt", "approve", "conflict", "create", "delete", "noop", "replace", "tag"}; !reflect.DeepEqual(got, want) {
		t.Errorf("summary keys %v, want %v", got, want)
	}
	var changes []map[string]json.RawMessage
	json.Unmarshal(doc["changes"], &changes)
	for _, c := range changes {
		want := []string{"action", "current", "desired", "id", "name", "project_id", "reason", "region", "set"}
		if _, dup := c["kept_id"]; dup { // the delete of a duplicate names the endpoint kept
			want = []string{"action", "current", "desired", "id", "kept_id", "name", "project_id", "reason", "region", "set"}
		}
		if got := keys(c); !reflect.DeepEqual(got, want) {
			t.Errorf("change keys %v, want %v", got, want)
		}
		if string(c["action"]) == `"noop"` {
			t.Error("a noop in the changes")
		}
	}
	if string(doc["format_version"]) != `"1"` {
		t.Errorf("format_version %s", doc["format_version"])
	}

	// An empty plan has [] and not null.
	empty, _ := Diff(nil, Options{})
	buf.Reset()
	WriteJSON(&buf, empty)
	if !strings.Contains(buf.String(), `"targets": []`) || !strings.Contains(buf.String(), `"changes": []`) {
		t.Errorf("empty plan document:\n%s", buf.String())
	}
}

// TestReadRoundTrip: a plan file reads back to the same document and the
// same text (the advice under it too), except for the quota warnings,
// which apply checks again.
func TestReadRoundTrip(t *testing.T) {
	p, err := Diff(scenario(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := WriteJSON(&first, p); err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := WriteJSON(&second, got); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Errorf("plan file changed on a round trip:\n%s\nwant\n%s", second.String(), first.String())
	}
	p.Warnings = nil // checked again by apply, not in the file
	if a, b := text(p), text(got); a != b {
		t.Errorf("text of the plan read back:\n%s\nwant\n%s", b, a)
	}
}

func TestReadRejects(t *testing.T) {
	p, err := Diff(scenario(), Options{Adopt: true, Prune: true, AllowReplace: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WriteJSON(&buf, p)
	good := buf.String()
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"not json", good, "plan", "not a plan file"},
		{"format version", `"format_version": "1"`, `"format_version": "2"`, `format_version "2"`},
		{"no fingerprint", p.Fingerprint, "", "no fingerprint"},
		{"unknown action", `"action": "adopt"`, `"action": "explode"`, `unknown action "explode"`},
		{"noop listed", `"action": "adopt"`, `"action": "noop"`, `unknown action "noop"`},
		{"target not listed", `"region": "eu-nl",
      "project_id"`, `"region": "eu-fr",
      "project_id"`, "not among the plan's targets"},
		{"summary", `"create": 4`, `"create": 5`, "does not count its changes"},
		{"no scope (an older plan file)", `"scope": {`, `"scope_": {`, "no scope"},
		{"scope of another target", `"region": "eu-nl",
        "project_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "sets"`, `"region": "eu-fr",
        "project_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "sets"`, "scope target eu-fr"},
		{"bad shard", `"scope": {`, `"scope": {"shard": "3/2",`, "shard \"3/2\""},
		{"delete without id", `"id": "ep-old"`, `"id": ""`, "delete without an id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(good, tc.old, tc.new, 1)
			if in == good {
				t.Fatalf("%q is not in the plan file", tc.old)
			}
			_, err := Read(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestQuotaWarnings(t *testing.T) {
	p, err := Diff(scenario(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := p.QuotaWarnings(map[Target]*vpcep.Quota{targetA: {Used: 49, Quota: 50}, targetB: {Used: 0, Quota: 50}})
	want := []string{"eu-de/" + projA + ": 3 endpoints to create, but only 1 more fit in the quota (49 of 50 used); creates beyond it fail with Endpoint.1018"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("QuotaWarnings = %q, want %q", got, want)
	}
	if got := p.QuotaWarnings(nil); got != nil {
		t.Errorf("QuotaWarnings(unknown) = %q", got)
	}
}
