package manifests

import (
	"strings"
	"testing"
)

// parseOne parses a document with one endpoint given by its body lines
// (indented by four spaces) and optional defaults lines.
func parseOne(t *testing.T, defaults, body string) *Endpoint {
	t.Helper()
	doc := "version: 1\nset: s\n"
	if defaults != "" {
		doc += "defaults:\n" + defaults
	}
	doc += "endpoints:\n  - name: e\n" + body
	ms, err := parse("m.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse:\n%s\n%v", doc, err)
	}
	return ms[0].Endpoints[0]
}

func TestCheckServiceType(t *testing.T) {
	const (
		base     = "    vpc_id: " + testVPC + "\n    endpoint_service_id: " + testService + "\n"
		subnet   = "    subnet_id: " + testSubnet + "\n"
		portIP   = "    port_ip: 10.0.0.5\n"
		white    = "    whitelist: [10.0.0.0/8]\n"
		enableW  = "    enable_whitelist: false\n"
		routes   = "    routetables: [cd7fdf2b-d964-4a4a-a169-2af1112e7d02]\n"
		policy   = "    policy_statement: [{Effect: Allow, Action: [\"obs:*:*\"], Resource: [\"obs:*:*:*:*\"]}]\n"
		dns      = "    enable_dns: true\n"
		defWhite = "  whitelist: [10.0.0.0/8]\n"
	)
	for _, tt := range []struct {
		name, defaults, body, serviceType, want string
	}{
		{"interface minimal", "", base + subnet, "interface", ""},
		{"interface everything", "", base + subnet + portIP + white + "    enable_whitelist: true\n" + dns, "interface", ""},
		{"interface any case", "", base + subnet, "Interface", ""},
		{"interface without subnet", "", base, "interface",
			`m.yaml:4:5: missing subnet_id, want the id of a subnet of the VPC (a UUID): endpoint "e" uses an interface endpoint service`},
		{"interface with routetables", "", base + subnet + routes, "interface",
			`m.yaml:8:5: routetables: not allowed for an interface endpoint service, remove it (endpoint "e")`},
		{"interface with policy", "", base + subnet + policy, "interface",
			`m.yaml:8:5: policy_statement: not allowed for an interface endpoint service, remove it (endpoint "e")`},
		{"interface with everything wrong", "", base + routes + policy, "interface",
			`m.yaml:4:5: missing subnet_id, want the id of a subnet of the VPC (a UUID): endpoint "e" uses an interface endpoint service` + "\n" +
				`m.yaml:7:5: routetables: not allowed for an interface endpoint service, remove it (endpoint "e")` + "\n" +
				`m.yaml:8:5: policy_statement: not allowed for an interface endpoint service, remove it (endpoint "e")`},
		{"gateway minimal", "", base, "gateway", ""},
		{"gateway everything", "", base + routes + policy + dns, "GATEWAY", ""},
		{"gateway with subnet", "", base + subnet, "gateway",
			`m.yaml:7:5: subnet_id: not allowed for a gateway endpoint service, remove it (endpoint "e")`},
		{"gateway with interface fields", "", base + subnet + portIP + white + enableW, "gateway",
			`m.yaml:7:5: subnet_id: not allowed for a gateway endpoint service, remove it (endpoint "e")` + "\n" +
				`m.yaml:8:5: port_ip: not allowed for a gateway endpoint service, remove it (endpoint "e")` + "\n" +
				`m.yaml:9:5: whitelist: not allowed for a gateway endpoint service, remove it (endpoint "e")` + "\n" +
				`m.yaml:10:5: enable_whitelist: not allowed for a gateway endpoint service, remove it (endpoint "e")`},
		{"gateway with empty whitelist", "", base + "    whitelist: []\n", "gateway",
			`m.yaml:7:5: whitelist: not allowed for a gateway endpoint service, remove it (endpoint "e")`},
		{"gateway with whitelist from defaults", defWhite, base, "gateway",
			`m.yaml:4:3: whitelist: not allowed for a gateway endpoint service, remove it (endpoint "e")`},
		{"gateway unsets whitelist of defaults", defWhite, base + "    whitelist: ~\n", "gateway", ""},
		{"unknown type", "", base, "tunnel",
			`m.yaml:4:5: endpoint "e": unknown endpoint service type "tunnel", want interface or gateway`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := parseOne(t, tt.defaults, tt.body)
			err := e.CheckServiceType(tt.serviceType)
			got := ""
			if err != nil {
				got = err.Error()
				checkErrorShape(t, err)
			}
			if got != tt.want {
				t.Errorf("CheckServiceType(%q) =\n%s\nwant:\n%s", tt.serviceType, got, tt.want)
			}
		})
	}
}

func TestValidators(t *testing.T) {
	for _, tt := range []struct {
		name  string
		valid func(string) bool
		good  []string
		bad   []string
	}{
		{"set", validSet,
			[]string{"a", "payments", "A_b-9", strings.Repeat("x", 36)},
			[]string{"", "a b", "a.b", "ä", strings.Repeat("x", 37)}},
		{"name", validName,
			[]string{"a", "app-a", "007", strings.Repeat("x", 43)},
			[]string{"", "app/a", "app@a", strings.Repeat("x", 44)}},
		{"uuid", validUUID,
			[]string{testVPC, "00000000-0000-0000-0000-000000000000"},
			[]string{"", "84758CF5-9C62-43AE-A778-3DBD8370C0A4", "84758cf59c6243aea7783dbd8370c0a4", "84758cf5-9c62-43ae-a778-3dbd8370c0a", "84758cf5-9c62-43ae-a778-3dbd8370c0a4a", "g4758cf5-9c62-43ae-a778-3dbd8370c0a4", "84758cf5_9c62-43ae-a778-3dbd8370c0a4"}},
		{"project id", validProjectID,
			[]string{"0df25bbc87d94f1c9a62f88c00c2959d"},
			[]string{"", "0df25bbc-87d9-4f1c-9a62-f88c00c2959d", "0DF25BBC87D94F1C9A62F88C00C2959D", "0df25bbc87d94f1c9a62f88c00c2959", "0df25bbc87d94f1c9a62f88c00c2959dz"}},
		{"region", validRegion,
			[]string{"eu-de", "eu-nl", "eu-ch2"},
			[]string{"", "EU-DE", "eu_de", "-eu", "eu-", "eu.de"}},
		{"ipv4", validIPv4,
			[]string{"10.0.0.1", "0.0.0.0", "255.255.255.255"},
			[]string{"", "10.0.0", "10.0.0.256", "010.0.0.1", "::1", "::ffff:10.0.0.1", "10.0.0.1/32", " 10.0.0.1"}},
		{"cidr", validCIDR,
			[]string{"10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "10.0.0.1/32"},
			[]string{"", "10.0.0.0/33", "10.0.0.0/", "2001:db8::/32", "::1", "example.com"}},
		{"tag key", func(s string) bool { return validTag(s, 1, 36) },
			[]string{"a", "team", "a@b_c-d", strings.Repeat("k", 36)},
			[]string{"", "a b", "a.b", "a:b", "ä", strings.Repeat("k", 37)}},
		{"tag value", func(s string) bool { return validTag(s, 0, 43) },
			[]string{"", "prod", "4711", strings.Repeat("v", 43)},
			[]string{"a b", "a/b", strings.Repeat("v", 44)}},
	} {
		for _, s := range tt.good {
			if !tt.valid(s) {
				t.Errorf("valid %s(%q) = false, want true", tt.name, s)
			}
		}
		for _, s := range tt.bad {
			if tt.valid(s) {
				t.Errorf("valid %s(%q) = true, want false", tt.name, s)
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	for _, tt := range []struct {
		key  string
		s    scope
		want string
	}{
		{"vpcid", ctxEndpoint, "vpc_id"},
		{"vpcId", ctxEndpoint, "vpc_id"},
		{"VPC-ID", ctxEndpoint, "vpc_id"},
		{"subnet", ctxEndpoint, "subnet_id"},
		{"policy", ctxEndpoint, "policy_statement"},
		{"tag", ctxEndpoint, "tags"},
		{"descripton", ctxEndpoint, "description"},
		{"whitelists", ctxEndpoint, "whitelist"},
		{"route_tables", ctxEndpoint, "routetables"},
		{"endpoint", ctxManifest, "endpoints"},
		{"versoin", ctxManifest, "version"},
		{"effect", ctxStatement, "Effect"},
		{"Actions", ctxStatement, "Action"},
		{"colour", ctxEndpoint, ""},
		{"ip", ctxEndpoint, ""},
		{"x", ctxEndpoint, ""},
		{"", ctxEndpoint, ""},
		{strings.Repeat("vpc_id", 20), ctxEndpoint, ""},
	} {
		if got := suggest(tt.key, tt.s.keys()); got != tt.want {
			t.Errorf("suggest(%q, %s) = %q, want %q", tt.key, tt.s, got, tt.want)
		}
	}
}
