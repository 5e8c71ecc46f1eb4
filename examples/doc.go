// Package examples holds no code: it holds the tests that keep the examples
// beside it working. A user copies these files, so they are checked with the
// real tools: the Prometheus configuration, alert rules and rule unit tests
// in prometheus/ with promtool, the Grafana dashboard in grafana/ for valid
// JSON and PromQL that only names metrics DESIGN.md defines.
//
// The manifests in manifests/ are run by cmd/vpcepctl's tests (the help
// and README examples point at them). The Kubernetes examples in
// kubernetes/ are a module of their own, with their own tests (make
// examples-test), so that vpcepctl's go.mod does not need k8s.io/api.
//
// promtool comes from Debian's prometheus package (.ci/install-deps). Without
// it the tests that need it are skipped, except under CI=true, where they fail.
package examples
