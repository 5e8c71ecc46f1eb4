package main

import (
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/plan"
)

// TestStatusFitsWidth: on a terminal the table is shortened (service,
// id, then plan cut; then service, IP, age and id left out) to fit the
// width; off a terminal nothing is cut.
func TestStatusFitsWidth(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	rows := []plan.Row{
		{Set: "payments", Name: "checkout", Declared: true, ID: "7b3c1ba3-3c4b-4f68-8e60-8b79f1a163a1", Status: "accepted", IP: "10.0.0.10",
			Service: "eu-de.payments-api.2da0fe8f-5cb7-4d93-bb35-dc05334da1be", CreatedAt: now.Add(-3 * time.Hour), Action: plan.Noop},
		{Set: "payments", Name: "new", Declared: true, Service: "com.t-systems.otc.eu-de.obs", Action: plan.Create},
		{Set: "payments", Name: "old", ID: "e50f2b7a-472f-4101-ac38-8073ef992959", Status: "accepted", Action: plan.Noop,
			CreatedAt: now.Add(-72 * time.Hour)},
		{Set: "ledger", Name: "ledger-reader", Declared: true, ID: "e971456b-3c4b-4f68-8e60-8b79f1a163a1", Status: "pendingAcceptance",
			IP: "192.168.100.250", Service: "eu-de.ledger-api.5133655d-0e28-4090-b669-13f87b355c78", CreatedAt: now.Add(-time.Minute), Action: plan.Noop},
	}
	for _, tt := range []struct {
		width int
		want  []string
	}{
		{0, []string{"eu-de.payments-api.2da0fe8f-5cb7-4d93-bb35-dc05334da1be", "undeclared (--prune deletes it)", "awaiting approval", "3h", "3d", "192.168.100.250"}},
		{120, []string{"in sync", "+ create", "undeclared (--prune deletes it)", "3h", "3d", "ID", "IP"}},
		{80, []string{"in sync", "+ create", "awaiting approval", "undeclared (--prune", "pendingAcceptance", "3d", "ID",
			"(IP, SERVICE left out to fit 80 columns; -o json shows every field)"}},
		{50, []string{"in sync", "+ create", "pendingAcceptance", "(ID, IP, SERVICE, AGE left out to fit 50 columns;…"}},
		{30, []string{"payments/checkout"}},
	} {
		var b strings.Builder
		if err := writeStatus(&b, rows, tt.width, now); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if tt.width > 0 && len([]rune(line)) > tt.width {
				t.Errorf("width %d: line of %d: %q", tt.width, len([]rune(line)), line)
			}
		}
		for _, want := range append(tt.want, "ledger/ledger-reader", "SET/NAME") {
			if !strings.Contains(out, want) {
				t.Errorf("width %d: no %q in\n%s", tt.width, want, out)
			}
		}
	}
}

// TestShortAge: ages as kubectl shows them; a created_at ahead of the
// local clock (skew) is 0s, not a negative age.
func TestShortAge(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-177 * time.Second, "0s"},
		{-500 * time.Millisecond, "0s"},
		{0, "0s"},
		{45 * time.Second, "45s"},
		{12*time.Minute + 30*time.Second, "12m"},
		{3 * time.Hour, "3h"},
		{47 * time.Hour, "47h"},
		{20 * 24 * time.Hour, "20d"},
	} {
		if got := shortAge(tt.d); got != tt.want {
			t.Errorf("shortAge(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestStatusFitsNarrowTerminals: the examples' endpoints (a set/name of 20,
// pendingAcceptance, a port IP) on an 80-column terminal, and narrower
// ones: no line is wider than the terminal, and each row keeps its
// set/name.
func TestStatusFitsNarrowTerminals(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	rows := []plan.Row{
		{Set: "ledger", Name: "ledger-reader", Declared: true, ID: "370d8920-fdc1-4bba-a048-d43cc61944b3", Status: "pendingAcceptance", IP: "10.0.0.10",
			Service: "eu-de.ledger-api.5133655d-0e28-4090-b669-13f87b355c78", CreatedAt: now.Add(-time.Minute), Action: plan.Noop},
		{Set: "payments", Name: "fraud-check", Declared: true, ID: "f4841d2b-ef87-4adb-aa58-5fee62730b80", Status: "accepted", IP: "192.168.0.25",
			Service: "eu-de.payments-api.2da0fe8f-5cb7-4d93-bb35-dc05334da1be", CreatedAt: now.Add(-time.Minute), Action: plan.Noop},
		{Set: "storage", Name: "obs-checkout", Declared: true, Service: "com.t-systems.otc.eu-de.obs", Action: plan.Create},
	}
	for _, width := range []int{80, 72, 60, 40} {
		var b strings.Builder
		if err := writeStatus(&b, rows, width, now); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if n := len([]rune(line)); n > width {
				t.Errorf("width %d: line of %d: %q", width, n, line)
			}
		}
		if width >= 60 {
			for _, want := range []string{"ledger/ledger-reader", "payments/fraud-check", "storage/obs-checkout", "awaiting", "in sync", "+ create"} {
				if !strings.Contains(out, want) {
					t.Errorf("width %d: no %q in\n%s", width, want, out)
				}
			}
		}
	}
}
