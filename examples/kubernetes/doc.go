// Package kubernetes holds no code: it holds the tests of the Kubernetes
// examples beside it. They decode every document strictly into its
// k8s.io/api type (an unknown or misspelt field is an error, as kubectl
// apply --validate=strict makes it), check what the API server would
// refuse (the pod failure policy's rules, the CronJob's schedule and time
// zone), and check what vpcepctl relies on: apply with --yes, a --timeout
// that ends each run well before activeDeadlineSeconds, exit statuses a
// retry cannot fix ending the Job instead of retrying it, one shard per
// index.
//
// It is a module of its own so that vpcepctl's go.mod does not depend on
// k8s.io/api; make examples-test (part of make ci) runs it.
package kubernetes
