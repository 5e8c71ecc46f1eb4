package manifests

// This file holds schema/manifest.schema.json, the JSON Schema editors use
// to complete and check manifests as people type, to the loader: every
// manifest of the corpus the loader accepts the schema accepts, every
// document the loader rejects the schema rejects (unless listed in
// beyondSchema with the reason), and the schema knows exactly the keys the
// loader knows. schema_values_test.go compares the two value by value.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

const schemaFile = "../schema/manifest.schema.json"

// beyondSchema lists the invalid manifests of testdata/invalid, as
// NAME.yaml or as NAME.yaml#N (its Nth document, from 1), that the loader
// rejects and no JSON Schema can: what is wrong is not in the JSON value
// of one document. Every other invalid document must fail the schema; an
// entry the schema does reject is reported stale.
var beyondSchema = map[string]string{
	// Not YAML text, or not YAML: the editor's YAML parser reports these,
	// and there is no document for a schema to see.
	"binary.yaml":                 "a NUL byte: not text",
	"control_char.yaml":           "a control character: not YAML text",
	"latin1.yaml":                 "invalid UTF-8: not YAML text",
	"empty.yaml":                  "no document at all",
	"only_comments.yaml":          "only comments: no document",
	"syntax_after_valid_doc.yaml": "YAML syntax in the second document (the schema rejects the first's bad vpc_id)",
	"syntax_at_sign.yaml":         "YAML syntax: a plain value starting with @",
	"syntax_colon.yaml":           "YAML syntax: an unquoted \": \" in a value",
	"syntax_flow.yaml":            "YAML syntax: an unclosed [",
	"syntax_indent.yaml":          "YAML syntax: bad indentation",
	"syntax_missing_colon.yaml":   "YAML syntax: a key without \":\"",
	"syntax_tab.yaml":             "YAML syntax: a tab in the indentation",
	"syntax_unclosed_quote.yaml":  "YAML syntax: an unclosed quote",
	"unknown_anchor.yaml":         "YAML: an alias to no anchor",
	"merge_keys.yaml":             "YAML: <<: 5 merges a number, so the document has no JSON value (its unknown key colour alone the schema would reject)",
	"bad_key_type.yaml":           "a list and a mapping as keys: JSON keys are strings, so the document has no JSON value",
	"duplicate_keys.yaml":         "duplicate keys: a JSON value has one value per key (the editor's YAML parser reports them)",

	// Rules across values that JSON Schema has no keyword for.
	"duplicate_names.yaml": "endpoint names unique in a set: uniqueItems compares whole endpoints, not one key of them",
	"duplicate_set.yaml":   "a set declared twice for a region and project: a rule across documents and files",
	"set_case.yaml":        "set names that differ only in case: a rule across documents and files",

	// A number's text, which the JSON value does not keep.
	"version.yaml#3":        "version: 1.0 is the number 1 in JSON; the loader wants it written 1",
	"quoted_scalars.yaml#5": "version: 1.0 is the number 1 in JSON; the loader wants it written 1",
}

// Rules of the loader the schema does not check, in documents that fail
// the schema for another reason too (so they are not listed above):
// tags_too_many.yaml's merged-19, over 18 tags only with those of
// defaults (a schema cannot count the union of two mappings); and the
// text of a number where a string is wanted (name: 1.5), see
// TestSchemaValues.

// compileSchema reads and compiles the schema; the compiler checks it
// against the draft 2020-12 meta-schema.
func compileSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	raw, ok := doc.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a JSON object", schemaFile)
	}
	id, _ := raw["$id"].(string)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	return sch, raw
}

// yamlDoc is one document of a YAML file as an editor's schema check sees
// it: its JSON value.
type yamlDoc struct {
	line  int   // of the document's content: the loader's errors in it are at or after it
	value any   // the JSON value; nil when err is set
	err   error // why the document has no JSON value
}

// yamlDocs reads the documents of a YAML file, skipping those with only
// comments as the loader does. A syntax error ends the list and is
// returned.
func yamlDocs(data []byte) ([]yamlDoc, error) {
	var docs []yamlDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if len(n.Content) == 0 || isEmptyDocument(n.Content[0]) {
			continue
		}
		d := yamlDoc{line: n.Content[0].Line}
		var v any
		if d.err = n.Decode(&v); d.err == nil {
			d.value, d.err = jsonValue(v)
		}
		docs = append(docs, d)
	}
}

// jsonValue turns a value decoded from YAML into the JSON value a
// validator sees: mappings with keys that are not strings get string
// keys, and numbers become JSON numbers.
func jsonValue(v any) (any, error) {
	data, err := json.Marshal(stringKeys(v))
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

func stringKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = stringKeys(x)
		}
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = stringKeys(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = stringKeys(x)
		}
	}
	return v
}

// loaderErrors parses a file as Load does and returns its problems.
func loaderErrors(name string, data []byte) []*Error {
	ms, errs := parseFile(name, data)
	return append(errs, checkSets(ms, newSetIndex(), "", "")...)
}

// errorsByDoc counts the loader's errors in each document.
func errorsByDoc(errs []*Error, docs []yamlDoc) []int {
	count := make([]int, len(docs))
	for _, e := range errs {
		for i := len(docs) - 1; i >= 0; i-- {
			if docs[i].line <= e.Line {
				count[i]++
				break
			}
		}
	}
	return count
}

// TestSchemaValid: every valid manifest of the corpus and every example
// passes the schema, document by document.
func TestSchemaValid(t *testing.T) {
	sch, _ := compileSchema(t)
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Glob("../examples/manifests/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || len(examples) == 0 {
		t.Fatalf("%d valid manifests and %d examples, want some of each", len(files), len(examples))
	}
	for _, file := range append(files, examples...) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if errs := loaderErrors(file, data); len(errs) > 0 {
			t.Errorf("%s: the loader rejects it: %v", file, errs[0])
			continue
		}
		docs, err := yamlDocs(data)
		if err != nil || len(docs) == 0 {
			t.Errorf("%s: %d documents, error %v; want documents", file, len(docs), err)
		}
		for i, d := range docs {
			if d.err != nil {
				t.Errorf("%s#%d: no JSON value: %v", file, i+1, d.err)
			} else if err := sch.Validate(d.value); err != nil {
				t.Errorf("%s#%d: the loader accepts it, the schema does not: %v", file, i+1, err)
			}
		}
	}
}

// TestSchemaInvalid: every document of testdata/invalid that the loader
// rejects fails the schema, and every one it accepts passes, except the
// files and documents of beyondSchema, each of which must still be out of
// the schema's reach.
func TestSchemaInvalid(t *testing.T) {
	sch, _ := compileSchema(t)
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	listed := maps.Clone(beyondSchema)
	for _, file := range files {
		base := filepath.Base(file)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := yamlDocs(data)
		if _, ok := listed[base]; ok {
			delete(listed, base)
			if err == nil && len(docs) > 0 && schemaSeesAll(sch, docs, loaderErrors(base, data)) {
				t.Errorf("%s: in beyondSchema (%s), but the schema rejects each document the loader rejects: drop it from the list", base, beyondSchema[base])
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: not YAML (%v): list it in beyondSchema, with the reason", base, err)
			continue
		}
		count := errorsByDoc(loaderErrors(base, data), docs)
		for i, d := range docs {
			key := fmt.Sprintf("%s#%d", base, i+1)
			reason, isListed := listed[key]
			delete(listed, key)
			checkInvalidDoc(t, sch, key, d, count[i] > 0, reason, isListed)
		}
	}
	for key := range listed {
		t.Errorf("beyondSchema lists %s, which is not in testdata/invalid", key)
	}
}

// checkInvalidDoc compares the loader's and the schema's verdict on one
// document of an invalid file.
func checkInvalidDoc(t *testing.T, sch *jsonschema.Schema, key string, d yamlDoc, loaderRejects bool, reason string, listed bool) {
	t.Helper()
	if d.err != nil {
		t.Errorf("%s: no JSON value (%v): list it in beyondSchema, with the reason", key, d.err)
		return
	}
	err := sch.Validate(d.value)
	switch {
	case listed && (!loaderRejects || err != nil):
		t.Errorf("%s: in beyondSchema (%s), but the schema rejects it or the loader accepts it: drop it from the list", key, reason)
	case listed:
	case loaderRejects && err == nil:
		t.Errorf("%s: the loader rejects it, the schema accepts it: make the schema say why, or list it in beyondSchema with the reason", key)
	case !loaderRejects && err != nil:
		t.Errorf("%s: the loader accepts it, the schema does not: %v", key, err)
	}
}

// schemaSeesAll reports whether every document of a file has a JSON value
// and the schema rejects each one the loader rejects.
func schemaSeesAll(sch *jsonschema.Schema, docs []yamlDoc, errs []*Error) bool {
	count := errorsByDoc(errs, docs)
	for i, d := range docs {
		if d.err != nil || count[i] > 0 && sch.Validate(d.value) == nil {
			return false
		}
	}
	return true
}

// TestSchemaKeys: the schema knows exactly the keys the loader knows, at
// the top of a document, in defaults, in an endpoint and in a policy
// statement, so that a field cannot be added to one and not the other;
// and each has a title and a description for an editor to show.
func TestSchemaKeys(t *testing.T) {
	_, raw := compileSchema(t)
	defs := object(t, raw, "$defs")
	for _, tt := range []struct {
		where  string
		schema map[string]any
		want   []string
	}{
		{"manifest", raw, topKeys[:]},
		{"defaults", object(t, defs, "defaults"), ctxDefaults.keys()},
		{"endpoint", object(t, defs, "endpoint"), ctxEndpoint.keys()},
		{"policy statement", object(t, defs, "statement"), ctxStatement.keys()},
	} {
		got := slices.Sorted(maps.Keys(object(t, tt.schema, "properties")))
		if want := slices.Sorted(slices.Values(tt.want)); !slices.Equal(got, want) {
			t.Errorf("schema keys in %s = %v, want the loader's %v", tt.where, got, want)
		}
		if tt.schema["additionalProperties"] != false {
			t.Errorf("schema for %s allows other keys, want additionalProperties: false (unknown keys are errors)", tt.where)
		}
		checkHelp(t, tt.where, object(t, tt.schema, "properties"), defs)
	}
}

// TestSchemaForEditors: the schema keeps to what editors built on
// draft-07 (yaml-language-server) apply: they ignore the keywords of
// 2019-09 and later, and any keyword beside a $ref. It has no default:
// editors write a default in when they complete a key, and the loader
// fills in no value (a field left out is not set; region and project_id
// come from the credentials).
func TestSchemaForEditors(t *testing.T) {
	_, raw := compileSchema(t)
	later := []string{"unevaluatedProperties", "unevaluatedItems", "dependentSchemas", "dependentRequired", "prefixItems", "$dynamicRef", "$anchor"}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["$ref"]; ok && len(v) > 1 {
				t.Errorf("%s: keywords beside $ref, which draft-07 editors ignore", path)
			}
			for k, x := range v {
				if slices.Contains(later, k) {
					t.Errorf("%s: %s, which draft-07 editors ignore", path, k)
				}
				if k == "default" {
					t.Errorf("%s: a default, which the loader does not fill in", path)
				}
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	walk("#", raw)
}

// TestSchemaModelines: the modelines that point editors at the schema
// name it: a URL in README.md is the schema's $id, and a path in an
// example is the schema file, relative to the example.
func TestSchemaModelines(t *testing.T) {
	_, raw := compileSchema(t)
	id, _ := raw["$id"].(string)
	modeline := regexp.MustCompile(`# yaml-language-server: \$schema=(\S+)`)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	urls := modeline.FindAllSubmatch(readme, -1)
	if len(urls) == 0 {
		t.Error("README.md shows no yaml-language-server modeline")
	}
	for _, m := range urls {
		if got := string(m[1]); got != id {
			t.Errorf("README.md: modeline $schema=%s, want the schema's $id %s", got, id)
		}
	}
	examples, err := filepath.Glob("../examples/manifests/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, file := range examples {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range modeline.FindAllSubmatch(data, -1) {
			found++
			if got := filepath.Join(filepath.Dir(file), string(m[1])); got != filepath.Clean(schemaFile) {
				t.Errorf("%s: modeline $schema=%s names %s, want %s", file, m[1], got, filepath.Clean(schemaFile))
			}
		}
	}
	if found == 0 {
		t.Error("no example in examples/manifests carries a modeline")
	}
}

// checkHelp checks that each of props, or the definition its $ref names,
// has a title and a description.
func checkHelp(t *testing.T, where string, props, defs map[string]any) {
	t.Helper()
	for name, p := range props {
		s, _ := p.(map[string]any)
		if ref, ok := s["$ref"].(string); ok {
			s, _ = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		for _, k := range []string{"title", "description"} {
			if text, _ := s[k].(string); text == "" {
				t.Errorf("schema for %s: %s has no %s for editors to show", where, name, k)
			}
		}
	}
}

func object(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("schema: %s is not an object", key)
	}
	return o
}
