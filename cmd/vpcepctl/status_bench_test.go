package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/plan"
)

// BenchmarkStatusTable10k renders the status of 10,000 endpoints on an
// 80-column terminal (every fitting step taken).
func BenchmarkStatusTable10k(b *testing.B) {
	now := time.Now()
	rows := make([]plan.Row, 10000)
	for i := range rows {
		rows[i] = plan.Row{Set: "payments", Name: fmt.Sprintf("endpoint-%05d", i), Declared: true,
			ID: fmt.Sprintf("7b3c1ba3-3c4b-4f68-8e60-8b79f1a%05d", i), Status: "pendingAcceptance", IP: "192.168.100.250",
			Service: "eu-de.payments-api.2da0fe8f-5cb7-4d93-bb35-dc05334da1be", CreatedAt: now.Add(-time.Hour), Action: plan.Noop}
	}
	for b.Loop() {
		if err := writeStatus(io.Discard, rows, 80, now); err != nil {
			b.Fatal(err)
		}
	}
}
