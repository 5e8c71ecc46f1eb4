package metrics

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestParsePushURL checks the --pushgateway URL forms and that a password
// in it is taken out.
func TestParsePushURL(t *testing.T) {
	tests := []struct {
		in, url, user, pass string
		err                 bool
	}{
		{in: "http://pg:9091", url: "http://pg:9091"},
		{in: "http://pg:9091/", url: "http://pg:9091"},
		{in: "pg:9091", url: "http://pg:9091"},
		{in: "https://u:p%40ss@pg.example/prefix", url: "https://pg.example/prefix", user: "u", pass: "p@ss"},
		{in: "ftp://pg:21", err: true},
		{in: "http://", err: true},
		{in: "http://u:secret@[::1", err: true},
	}
	for _, tt := range tests {
		pt, err := ParsePushURL(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("ParsePushURL(%q) = %+v, want an error", tt.in, pt)
			} else if strings.Contains(err.Error(), "secret") {
				t.Errorf("ParsePushURL(%q) error shows the password: %v", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePushURL(%q): %v", tt.in, err)
			continue
		}
		if pt.URL != tt.url || pt.User != tt.user || pt.Pass != tt.pass || pt.Auth != (tt.user != "") {
			t.Errorf("ParsePushURL(%q) = %+v, want url %q user %q pass %q", tt.in, pt, tt.url, tt.user, tt.pass)
		}
	}
}

// TestTextfileCarry: a failed run's textfile carries the previous file's
// last success forward; a successful one replaces it with its own; a
// previous file that cannot be read is said, and the text is whole.
func TestTextfileCarry(t *testing.T) {
	textfile := func(end int64, success bool, previous []byte) ([]byte, error) {
		r := NewRun()
		r.Finish(time.Unix(100, 0), time.Unix(end, 0), success)
		if previous == nil {
			return r.Textfile(nil, success)
		}
		return r.Textfile(bytes.NewReader(previous), success)
	}
	first, err := textfile(200, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	failed, err := textfile(300, false, first)
	if err != nil {
		t.Fatal(err)
	}
	const want = `
# HELP vpcepctl_last_run_timestamp_seconds Unix time the last run finished.
# TYPE vpcepctl_last_run_timestamp_seconds gauge
vpcepctl_last_run_timestamp_seconds 300
# HELP vpcepctl_last_success_timestamp_seconds Unix time the last successful run finished.
# TYPE vpcepctl_last_success_timestamp_seconds gauge
vpcepctl_last_success_timestamp_seconds 200
`
	if err := testutil.GatherAndCompare(textGatherer(failed), strings.NewReader(want),
		"vpcepctl_last_run_timestamp_seconds", "vpcepctl_last_success_timestamp_seconds"); err != nil {
		t.Error(err)
	}
	again, err := textfile(400, true, failed)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(again), "vpcepctl_last_success_timestamp_seconds 400") {
		t.Errorf("after a success:\n%s\nwant last success 400", again)
	}
	text, err := textfile(500, false, []byte("not { a textfile"))
	if err == nil || text == nil || strings.Contains(string(text), "last_success") {
		t.Errorf("unreadable previous file: error %v, text %q; want an error and the run's own text", err, text)
	}
}

// textGatherer gathers the families of a textfile.
func textGatherer(data []byte) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		p := expfmt.NewTextParser(model.UTF8Validation)
		m, err := p.TextToMetricFamilies(bytes.NewReader(data))
		out := make([]*dto.MetricFamily, 0, len(m))
		for _, mf := range m {
			out = append(out, mf)
		}
		slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		return out, err
	})
}
