package manifests

import (
	"fmt"
	"runtime"
	"testing"
)

// generate returns a manifest of n endpoints, each with the fields a
// large migration would set: name, VPC, subnet, address and a tag.
func generate(n int) []byte {
	b := make([]byte, 0, n*230+512)
	b = append(b, `version: 1
set: bench
region: eu-de
project_id: 0df25bbc87d94f1c9a62f88c00c2959d
defaults:
  endpoint_service_id: 2da0fe8f-5cb7-4d93-bb35-dc05334da1be
  enable_dns: true
  tags: {team: bench, env: prod}
endpoints:
`...)
	for i := range n {
		b = fmt.Appendf(b, `  - name: endpoint-%06d
    vpc_id: 84758cf5-9c62-43ae-a778-%012x
    subnet_id: 68bfbcc1-dff2-47e4-a9d4-%012x
    port_ip: 10.%d.%d.%d
    tags: {app: app-%d}
`, i, i%64, i, i>>16&255, i>>8&255, i&255, i)
	}
	return b
}

// BenchmarkLoad100k parses a generated manifest of 100,000 endpoints and
// reports the time and the bytes allocated per endpoint.
func BenchmarkLoad100k(b *testing.B) {
	const n = 100_000
	data := generate(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		ms, err := parse("bench.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		if got := Count(ms); got != n {
			b.Fatalf("Count = %d, want %d", got, n)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/endpoint")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N*n), "B/endpoint")
}
