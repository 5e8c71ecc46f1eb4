package manifests

// This file compares the schema's verdict with the loader's one value at
// a time, in a manifest that is otherwise valid: strings near the valid
// ones and values of every JSON kind in each field, and a table of small
// documents for the rules between an endpoint and defaults.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const (
	uuidA = "84758cf5-9c62-43ae-a778-3dbd8370c0a4"
	uuidB = "2da0fe8f-5cb7-4d93-bb35-dc05334da1be"
)

// valueField is a place for a value in a manifest.
type valueField struct {
	name    string
	strings []string // valid or nearly valid strings, each tried and mutated; none: kinds only
	put     func(doc, ep map[string]any, v any)
}

func valueFields() []valueField {
	top := func(key string) func(doc, ep map[string]any, v any) {
		return func(doc, _ map[string]any, v any) { doc[key] = v }
	}
	field := func(key string) func(doc, ep map[string]any, v any) {
		return func(_, ep map[string]any, v any) { ep[key] = v }
	}
	in := func(key string) func(doc, ep map[string]any, v any) {
		return func(_, ep map[string]any, v any) { ep[key] = []any{v} }
	}
	statement := func(key string) func(doc, ep map[string]any, v any) {
		return func(_, ep map[string]any, v any) {
			st := map[string]any{"Effect": "Allow", "Action": []any{"obs:*:*"}, "Resource": []any{"obs:*:*:*:*"}}
			if key == "Effect" {
				st[key] = v
			} else {
				st[key] = []any{v}
			}
			ep["policy_statement"] = []any{st}
		}
	}
	x := strings.Repeat
	ips := []string{"10.0.0.10", "0.0.0.0", "255.255.255.255", "010.0.0.1", "1.2.3.04", "1.2.3", "1.2.3.4.5", "::1", "::ffff:1.2.3.4", "1.2.3.4%eth0", " 1.2.3.4", "1.2.3.256"}
	return []valueField{
		{"version", nil, top("version")},
		{"set", []string{"payments", "a", "A-b_9", x("s", 36), "pay ments", "007"}, top("set")},
		{"region", []string{"eu-de", "a", "eu-ch2", x("r", 63), "-eu", "eu-", "EU-DE"}, top("region")},
		{"project_id", []string{"0df25bbc87d94f1c9a62f88c00c2959d", "0DF25BBC87D94F1C9A62F88C00C2959D"}, top("project_id")},
		{"defaults", nil, top("defaults")},
		{"endpoints", nil, top("endpoints")},
		{"name", []string{"app-a", "A_9", x("n", 43), "app.a"}, field("name")},
		{"endpoint_service_id", []string{uuidB, strings.ToUpper(uuidB)}, field("endpoint_service_id")},
		{"endpoint_service_name", []string{"com.t-systems.otc.eu-de.obs", "x", "two words", "tab\there"}, func(_, ep map[string]any, v any) {
			delete(ep, "endpoint_service_id")
			ep["endpoint_service_name"] = v
		}},
		{"vpc_id", []string{uuidA, strings.ReplaceAll(uuidA, "-", "")}, field("vpc_id")},
		{"subnet_id", []string{uuidB}, field("subnet_id")},
		{"port_ip", ips, field("port_ip")},
		{"enable_dns", nil, field("enable_dns")},
		{"whitelist", nil, field("whitelist")},
		{"whitelist[0]", append([]string{"10.0.0.0/16", "0.0.0.0/0", "1.2.3.4/32", "1.2.3.4/33", "1.2.3.4/08", "1.2.3.4/+8", "1.2.3.4/", "2001:db8::/32"}, ips...), in("whitelist")},
		{"enable_whitelist", nil, field("enable_whitelist")},
		{"routetables", nil, field("routetables")},
		{"routetables[0]", []string{uuidA}, in("routetables")},
		{"policy_statement", nil, field("policy_statement")},
		{"Effect", []string{"Allow", "Deny", "allow"}, statement("Effect")},
		{"Action[0]", []string{"obs:*:*", "x", ""}, statement("Action")},
		{"Resource[0]", []string{"obs:*:*:*:*/*", ""}, statement("Resource")},
		{"description", []string{"", "managed by vpcepctl", x("ü", 128), x("d", 129), "a <b>"}, field("description")},
		{"specification_name", nil, field("specification_name")}, // any text
		{"tags", nil, field("tags")},
		{"tags key", []string{"team", "a@b", x("k", 36), "vpcepctl", "VPCEPCTL-Name", "xvpcepctl-a", "bad key"}, func(_, ep map[string]any, v any) {
			ep["tags"] = map[string]any{fmt.Sprint(v): "v"}
		}},
		{"tags value", []string{"prod", "", "a@b", x("v", 43), "a.b"}, func(_, ep map[string]any, v any) {
			ep["tags"] = map[string]any{"k": v}
		}},
	}
}

// valueDoc returns a valid manifest with v put in f, as JSON (which is
// YAML).
func valueDoc(t *testing.T, f valueField, v any) []byte {
	t.Helper()
	ep := map[string]any{"name": "e", "vpc_id": uuidA, "endpoint_service_id": uuidB}
	doc := map[string]any{"version": 1, "set": "s", "endpoints": []any{ep}}
	f.put(doc, ep, v)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

// verdicts returns the loader's and the schema's verdict on a one-document
// manifest.
func verdicts(t *testing.T, sch *jsonschema.Schema, data []byte) (loader, schema error) {
	t.Helper()
	if errs := loaderErrors("doc.yaml", data); len(errs) > 0 {
		loader = errs[0]
	}
	docs, err := yamlDocs(data)
	if err == nil && len(docs) != 1 {
		err = fmt.Errorf("%d documents, want 1", len(docs))
	} else if err == nil {
		err = docs[0].err
	}
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return loader, sch.Validate(docs[0].value)
}

// TestSchemaValues: in each field, the schema accepts a string exactly
// when the loader does, for the strings of valueFields and a few hundred
// of their mutations; and a value of another kind (null, a boolean, a
// number, a list, a mapping) likewise, except that the schema cannot read
// the text of a number or a boolean where the loader wants a string
// (name: 1.5): it accepts every number or boolean such a field might
// hold, and the loader checks its text.
func TestSchemaValues(t *testing.T) {
	sch, _ := compileSchema(t)
	rnd := rand.New(rand.NewPCG(15, 2020))
	kinds := []any{nil, true, false, 1, 7, -3, 1.5, "", "x", []any{}, []any{"x"}, map[string]any{}, map[string]any{"a": "b"}}
	for _, f := range valueFields() {
		if f.strings == nil {
			for _, v := range kinds {
				loader, schema := verdicts(t, sch, valueDoc(t, f, v))
				textOnly := loader != nil && schema == nil && isNumberOrBool(v)
				if (loader == nil) != (schema == nil) && !textOnly {
					t.Errorf("%s: %#v: loader says %v; schema says %v", f.name, v, loader, schema)
				}
			}
			continue
		}
		const n = 300
		valid := 0
		for i := range n {
			s := f.strings[i%len(f.strings)]
			if i >= len(f.strings) {
				s = mutate(rnd, s)
			}
			loader, schema := verdicts(t, sch, valueDoc(t, f, s))
			if (loader == nil) != (schema == nil) {
				t.Errorf("%s: %q: loader says %v; schema says %v", f.name, s, loader, schema)
			}
			if loader == nil {
				valid++
			}
		}
		if valid == 0 || valid == n {
			t.Errorf("%s: %d of %d strings valid, want both kinds: the strings miss the boundary", f.name, valid, n)
		}
	}
}

func isNumberOrBool(v any) bool {
	switch v.(type) {
	case bool, int, float64:
		return true
	}
	return false
}

// mutate changes s in one to four places: a character replaced, inserted
// or deleted, or s doubled, so that lengths cross their limits too.
func mutate(rnd *rand.Rand, s string) string {
	const alphabet = "0123456789abcdefxyzABCDEFXYZ-_@./:+% <>\tü"
	chars := []rune(alphabet)
	r := []rune(s)
	for range 1 + rnd.IntN(4) {
		c := chars[rnd.IntN(len(chars))]
		switch op := rnd.IntN(7); {
		case op == 0:
			r = append(r, r...)
		case op <= 2 && len(r) > 0:
			r[rnd.IntN(len(r))] = c
		case op <= 4 && len(r) > 0:
			i := rnd.IntN(len(r))
			r = append(r[:i], r[i+1:]...)
		default:
			i := rnd.IntN(len(r) + 1)
			r = append(r[:i], append([]rune{c}, r[i:]...)...)
		}
	}
	return string(r)
}

// TestSchemaDefaults: the rules between an endpoint and defaults (a
// required field given in either, enable_whitelist and whitelist from
// either), and the rules the schema leaves to the loader.
func TestSchemaDefaults(t *testing.T) {
	sch, _ := compileSchema(t)
	tags := func(prefix string, n int) string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf("%s%d: v", prefix, i))
		}
		return "{" + strings.Join(s, ", ") + "}"
	}
	d := "vpc_id: " + uuidA + ", endpoint_service_id: " + uuidB // a defaults that needs nothing
	tests := []struct {
		name           string
		doc            string // after version and set
		loader, schema bool   // valid?
	}{
		{"vpc_id in defaults", "defaults: {" + d + "}\nendpoints: [{name: a}]", true, true},
		{"vpc_id nowhere", "defaults: {endpoint_service_id: " + uuidB + "}\nendpoints: [{name: a}]", false, false},
		{"service name in defaults, id in the endpoint", "defaults: {vpc_id: " + uuidA + ", endpoint_service_name: x}\nendpoints: [{name: a, endpoint_service_id: " + uuidB + "}]", true, true},
		{"service nowhere", "defaults: {vpc_id: " + uuidA + "}\nendpoints: [{name: a, endpoint_service_name: x}, {name: b}]", false, false},
		{"both services in defaults", "defaults: {" + d + ", endpoint_service_name: x}\nendpoints: []", false, false},
		{"enable_whitelist, whitelist of defaults", "defaults: {" + d + ", whitelist: [10.0.0.0/8]}\nendpoints: [{name: a, enable_whitelist: true}]", true, true},
		{"enable_whitelist, empty whitelist of defaults", "defaults: {" + d + ", whitelist: []}\nendpoints: [{name: a, enable_whitelist: true}]", false, false},
		{"enable_whitelist, whitelist null", "defaults: {" + d + ", whitelist: [10.0.0.0/8]}\nendpoints: [{name: a, enable_whitelist: true, whitelist: ~}]", false, false},
		{"enable_whitelist, no whitelist", "defaults: {" + d + "}\nendpoints: [{name: a, enable_whitelist: true}]", false, false},
		{"enable_whitelist of defaults, whitelist of defaults", "defaults: {" + d + ", enable_whitelist: true, whitelist: [10.0.0.0/8]}\nendpoints: [{name: a}]", true, true},
		{"enable_whitelist of defaults, no whitelist", "defaults: {" + d + ", enable_whitelist: true}\nendpoints: [{name: a}]", false, false},
		{"enable_whitelist of defaults, whitelist", "defaults: {" + d + ", enable_whitelist: true}\nendpoints: [{name: a, whitelist: [10.0.0.1]}]", true, true},
		{"enable_whitelist of defaults, empty whitelist", "defaults: {" + d + ", enable_whitelist: true, whitelist: [10.0.0.0/8]}\nendpoints: [{name: a, whitelist: []}]", false, false},
		{"enable_whitelist of defaults, whitelist null", "defaults: {" + d + ", enable_whitelist: true, whitelist: [10.0.0.0/8]}\nendpoints: [{name: a, whitelist: ~}]", false, false},
		{"enable_whitelist of defaults, null", "defaults: {" + d + ", enable_whitelist: true}\nendpoints: [{name: a, enable_whitelist: ~}]", true, true},
		{"enable_whitelist of defaults, false", "defaults: {" + d + ", enable_whitelist: true}\nendpoints: [{name: a, enable_whitelist: false}]", true, true},
		{"enable_whitelist of defaults, no endpoints", "defaults: {" + d + ", enable_whitelist: true, whitelist: []}\nendpoints: []", true, true},
		{"18 tags with those of defaults", "defaults: {" + d + ", tags: " + tags("d", 9) + "}\nendpoints: [{name: a, tags: " + tags("e", 9) + "}]", true, true},
		{"tags null", "defaults: {" + d + ", tags: " + tags("d", 18) + "}\nendpoints: [{name: a, tags: ~}]", true, true},

		// What the schema leaves to the loader.
		{"19 tags with those of defaults", "defaults: {" + d + ", tags: " + tags("d", 10) + "}\nendpoints: [{name: a, tags: " + tags("e", 9) + "}]", false, true},
		{"duplicate names", "defaults: {" + d + "}\nendpoints: [{name: a}, {name: a}]", false, true},
		{"a number as a name", "defaults: {" + d + "}\nendpoints: [{name: 1.5}]", false, true},
	}
	for _, tt := range tests {
		data := []byte("version: 1\nset: s\n" + tt.doc + "\n")
		loader, schema := verdicts(t, sch, data)
		if (loader == nil) != tt.loader || (schema == nil) != tt.schema {
			t.Errorf("%s: loader says %v; schema says %v; want valid: loader %t, schema %t", tt.name, loader, schema, tt.loader, tt.schema)
		}
	}
}
