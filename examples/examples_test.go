package examples

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vpcepctl/vpcepctl/internal/testkit"
)

// designMetrics is the metrics table of DESIGN.md ("Metrics"): name and type.
// Change it only together with the contract.
var designMetrics = map[string]string{
	"vpcepctl_api_requests_total":             "counter",
	"vpcepctl_api_request_duration_seconds":   "histogram",
	"vpcepctl_api_retries_total":              "counter",
	"vpcepctl_changes_total":                  "counter",
	"vpcepctl_planned_changes":                "gauge",
	"vpcepctl_endpoints":                      "gauge",
	"vpcepctl_owned_endpoints":                "gauge",
	"vpcepctl_duplicate_endpoints":            "gauge",
	"vpcepctl_inflight_requests":              "gauge",
	"vpcepctl_rate_limit_rps":                 "gauge",
	"vpcepctl_rate_limit_wait_seconds_total":  "counter",
	"vpcepctl_run_duration_seconds":           "gauge",
	"vpcepctl_last_run_timestamp_seconds":     "gauge",
	"vpcepctl_last_success_timestamp_seconds": "gauge",
}

// pushgatewayMetrics are the Pushgateway's own series that alerts may use.
var pushgatewayMetrics = []string{"push_time_seconds"}

// seriesNames returns the names a query can select for the DESIGN.md
// metrics: a histogram only exists as its _bucket, _sum and _count series.
func seriesNames() map[string]bool {
	names := make(map[string]bool)
	for name, typ := range designMetrics {
		if typ == "histogram" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[name+suffix] = true
			}
			continue
		}
		names[name] = true
	}
	return names
}

// promtool runs promtool with args and fails the test with its output when
// it exits non-zero.
func promtool(t *testing.T, args ...string) {
	t.Helper()
	path := testkit.RequireTool(t, "promtool")
	out, err := exec.CommandContext(t.Context(), path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestPrometheusConfig(t *testing.T) {
	t.Parallel()
	// Also checks the rule files the configuration names.
	promtool(t, "check", "config", "--lint-fatal", "prometheus/prometheus.yml")

	type scrapeConfig struct {
		JobName     string `yaml:"job_name"`
		HonorLabels bool   `yaml:"honor_labels"`
	}
	var cfg struct {
		RuleFiles     []string       `yaml:"rule_files"`
		ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
	}
	readYAML(t, "prometheus/prometheus.yml", &cfg)
	if !slices.Contains(cfg.RuleFiles, "alerts.yml") {
		t.Errorf("prometheus.yml: rule_files = %q, want alerts.yml", cfg.RuleFiles)
	}
	i := slices.IndexFunc(cfg.ScrapeConfigs, func(sc scrapeConfig) bool {
		return sc.JobName == "pushgateway"
	})
	switch {
	case i < 0:
		t.Errorf("prometheus.yml: no scrape config with job_name pushgateway")
	case !cfg.ScrapeConfigs[i].HonorLabels:
		t.Errorf("prometheus.yml: pushgateway job without honor_labels: true; pushed job/set/shard labels would be overwritten")
	}
}

func TestAlertRules(t *testing.T) {
	t.Parallel()
	promtool(t, "check", "rules", "--lint=all", "--lint-fatal", "prometheus/alerts.yml")
}

func TestAlertRulesUnitTests(t *testing.T) {
	t.Parallel()
	promtool(t, "test", "rules", "prometheus/alerts_test.yml")
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestAlertRulesContent checks what promtool does not: the alerts of issue 7
// exist, name only DESIGN.md metrics, carry severity and annotations, and
// alerts_test.yml has a case where each fires and one where it does not.
func TestAlertRulesContent(t *testing.T) {
	t.Parallel()
	var rules ruleFile
	readYAML(t, "prometheus/alerts.yml", &rules)

	allowed := seriesNames()
	for _, name := range pushgatewayMetrics {
		allowed[name] = true
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts = append(alerts, r.Alert)
			checkMetricNames(t, "alerts.yml: "+r.Alert, r.Expr, allowed)
			if s := r.Labels["severity"]; !slices.Contains([]string{"critical", "warning", "info"}, s) {
				t.Errorf("alerts.yml: %s: severity %q, want critical, warning or info", r.Alert, s)
			}
			for _, a := range []string{"summary", "description"} {
				if r.Annotations[a] == "" {
					t.Errorf("alerts.yml: %s: no %s annotation", r.Alert, a)
				}
			}
		}
	}
	for _, want := range []string{
		"VpcepctlNoRecentSuccess",
		"VpcepctlChangesFailed",
		"VpcepctlThrottlingHigh",
		"VpcepctlPushStale",
		"VpcepctlDriftDetected",
	} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alerts.yml: no alert %s", want)
		}
	}

	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, "prometheus/alerts_test.yml", &tests)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, at := range tc.AlertRuleTest {
			if len(at.ExpAlerts) > 0 {
				fires[at.Alertname] = true
			} else {
				quiet[at.Alertname] = true
			}
		}
	}
	for _, a := range alerts {
		if !fires[a] {
			t.Errorf("alerts_test.yml: no test where %s fires", a)
		}
		if !quiet[a] {
			t.Errorf("alerts_test.yml: no test where %s does not fire", a)
		}
	}
}

// dashboardQuery is one PromQL query of the dashboard and where it is.
type dashboardQuery struct {
	where string
	expr  string
}

// labelValues matches a Grafana variable query label_values(SELECTOR, LABEL).
var labelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$`)

// dashboardQueries returns the PromQL of every panel target, annotation and
// query variable of a dashboard, label_values(...) reduced to its selector.
func dashboardQueries(t *testing.T, dash map[string]any) []dashboardQuery {
	t.Helper()
	var qs []dashboardQuery
	var panels func(list []any, where string)
	panels = func(list []any, where string) {
		for _, p := range list {
			p, _ := p.(map[string]any)
			title, _ := p["title"].(string)
			for _, tg := range asList(p["targets"]) {
				tg, _ := tg.(map[string]any)
				if expr, ok := tg["expr"].(string); ok {
					qs = append(qs, dashboardQuery{fmt.Sprintf("%spanel %q target %v", where, title, tg["refId"]), expr})
				}
			}
			panels(asList(p["panels"]), fmt.Sprintf("row %q: ", title))
		}
	}
	panels(asList(dash["panels"]), "")

	annotations, _ := dash["annotations"].(map[string]any)
	for _, a := range asList(annotations["list"]) {
		a, _ := a.(map[string]any)
		if expr, ok := a["expr"].(string); ok {
			qs = append(qs, dashboardQuery{fmt.Sprintf("annotation %q", a["name"]), expr})
		}
	}

	templating, _ := dash["templating"].(map[string]any)
	for _, v := range asList(templating["list"]) {
		v, _ := v.(map[string]any)
		if v["type"] != "query" {
			continue
		}
		q, ok := v["query"].(string)
		if m, _ := v["query"].(map[string]any); m != nil {
			q, ok = m["query"].(string)
		}
		if !ok {
			t.Errorf("variable %q: no query", v["name"])
			continue
		}
		m := labelValues.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("variable %q: query %q is not label_values(SELECTOR, LABEL)", v["name"], q)
			continue
		}
		qs = append(qs, dashboardQuery{fmt.Sprintf("variable %q", v["name"]), m[1]})
	}
	return qs
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func readDashboard(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("grafana/vpcepctl.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana/vpcepctl.json: %v", err)
	}
	return dash
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	dash := readDashboard(t)

	if v, _ := dash["schemaVersion"].(float64); v < 36 {
		t.Errorf("schemaVersion = %v, want >= 36", dash["schemaVersion"])
	}
	if uid, _ := dash["uid"].(string); uid == "" {
		t.Errorf("no uid")
	}
	if title, _ := dash["title"].(string); title == "" {
		t.Errorf("no title")
	}
	templating, _ := dash["templating"].(map[string]any)
	if !slices.ContainsFunc(asList(templating["list"]), func(x any) bool {
		v, _ := x.(map[string]any)
		return v["type"] == "datasource" && v["name"] == "datasource" && v["query"] == "prometheus"
	}) {
		t.Errorf("no datasource variable named datasource for prometheus")
	}

	// Every panel has a unique id and queries the datasource variable.
	ids := map[float64]bool{}
	for _, p := range asList(dash["panels"]) {
		p, _ := p.(map[string]any)
		id, _ := p["id"].(float64)
		if ids[id] {
			t.Errorf("panel %q: id %v used twice", p["title"], p["id"])
		}
		ids[id] = true
		if p["type"] == "row" {
			continue
		}
		for _, tg := range append([]any{p}, asList(p["targets"])...) {
			tg, _ := tg.(map[string]any)
			ds, _ := tg["datasource"].(map[string]any)
			if ds["uid"] != "${datasource}" {
				t.Errorf("panel %q: datasource %v, want uid ${datasource}", p["title"], tg["datasource"])
			}
		}
	}

	allowed := seriesNames()
	used := map[string]bool{}
	qs := dashboardQueries(t, dash)
	if len(qs) == 0 {
		t.Fatal("no queries")
	}
	for _, q := range qs {
		for _, name := range checkMetricNames(t, q.where, q.expr, allowed) {
			used[name] = true
		}
	}
	for _, want := range []string{
		"vpcepctl_last_run_timestamp_seconds",
		"vpcepctl_last_success_timestamp_seconds",
		"vpcepctl_changes_total",
		"vpcepctl_api_requests_total",
		"vpcepctl_api_request_duration_seconds_bucket",
		"vpcepctl_api_retries_total",
		"vpcepctl_rate_limit_rps",
		"vpcepctl_planned_changes",
	} {
		if !used[want] {
			t.Errorf("no panel shows %s", want)
		}
	}
}

// grafanaVariable matches $name, ${name} and ${name:format}.
var grafanaVariable = regexp.MustCompile(`\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*`)

// TestDashboardPromQL parses every query of the dashboard with promtool, as
// recording rules, after replacing Grafana's variables.
func TestDashboardPromQL(t *testing.T) {
	t.Parallel()
	testkit.RequireTool(t, "promtool")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	qs := dashboardQueries(t, readDashboard(t))
	for i, q := range qs {
		expr := grafanaVariable.ReplaceAllStringFunc(q.expr, func(v string) string {
			if strings.HasPrefix(strings.Trim(v, "${}"), "__") {
				return "5m" // $__rate_interval, $__interval, $__range
			}
			return ".*" // $job, $set, $shard: all
		})
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: expr})
		t.Logf("dashboard:query_%d: %s: %s", i, q.where, expr)
	}
	b, err := yaml.Marshal(map[string]any{
		"groups": []any{map[string]any{"name": "dashboard", "rules": rules}},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, "check", "rules", path)
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`time() - a_b{job=~"$job", x="}[("} > 26 * 3600`, []string{"a_b"}},
		{`sum by (le, operation) (rate(h_bucket{a="b"}[$__rate_interval]))`, []string{"h_bucket"}},
		{`sum without (action) (x{action!="noop"}) - on (set) group_left (shard) y offset 1h`, []string{"x", "y"}},
		{`(a / b) > 0.1 and c >= 1e3 or d unless bool e`, []string{"a", "b", "c", "d", "e"}},
		{`histogram_quantile(0.99, sum(rate(x[5m:1m])) by (le))`, []string{"x"}},
		{"sum\n  without (a) (x)\n/ count by(b)(y)", []string{"x", "y"}},
		{`label_replace(m, "dst", "$1", 'src', "(.*)")`, []string{"m"}},
		{`rule:name:sum`, []string{"rule:name:sum"}},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// checkMetricNames reports every metric name of expr outside allowed, and a
// query that names no metric at all. It returns the names.
func checkMetricNames(t *testing.T, where, expr string, allowed map[string]bool) []string {
	t.Helper()
	names := metricNames(expr)
	if len(names) == 0 {
		t.Errorf("%s: no metric in %q", where, expr)
	}
	for _, name := range names {
		if !allowed[name] {
			t.Errorf("%s: metric %s is not in the DESIGN.md metrics table", where, name)
		}
	}
	return names
}

// promqlKeywords are the identifiers of PromQL that are not metric names.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "atan2": true, "bool": true,
	"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "offset": true,
	"inf": true, "nan": true, "start": true, "end": true,
}

// labelLists are the keywords followed by a parenthesised list of labels.
var labelLists = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true,
}

// metricNames returns the metric names a PromQL expression selects, in
// order: identifiers that are not functions, keywords or label names.
// Strings, label matchers, ranges and Grafana variables are skipped. It
// reads well-formed queries only; promtool checks the syntax.
func metricNames(expr string) []string {
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipGroup(expr, i, '{', '}')
		case c == '[':
			i = skipGroup(expr, i, '[', ']')
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '$':
			i++
			if i < len(expr) && expr[i] == '{' {
				i = skipGroup(expr, i, '{', '}')
				break
			}
			for i < len(expr) && isIdent(expr[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			// Numbers and durations: 0.5, 1e3, 5m, 0x1f.
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdent(c):
			j := i
			for j < len(expr) && (isIdent(expr[j]) || expr[j] == ':') {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && strings.ContainsRune(" \t\r\n", rune(expr[k])) {
				k++
			}
			next := k
			for next < len(expr) && isIdent(expr[next]) {
				next++
			}
			i = j
			switch {
			case k < len(expr) && expr[k] == '(' && labelLists[strings.ToLower(word)]:
				i = skipGroup(expr, k, '(', ')')
			case k < len(expr) && expr[k] == '(':
				// A function or aggregation.
			case slices.Contains([]string{"by", "without"}, strings.ToLower(expr[k:next])):
				// An aggregation with its grouping first: sum by (le) (...).
			case promqlKeywords[strings.ToLower(word)]:
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// skipString returns the index after the string literal that starts at i.
func skipString(s string, i int) int {
	quote := s[i]
	for i++; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quote != '`':
			i++
		case s[i] == quote:
			return i + 1
		}
	}
	return len(s)
}

// skipGroup returns the index after the close that matches the open at i,
// skipping string literals inside.
func skipGroup(s string, i int, open, close byte) int {
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '"', '\'', '`':
			i = skipString(s, i)
			continue
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return len(s)
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
