// Package plan compares desired endpoints (from manifests) with the
// endpoints that exist (from the API) and decides what to do with each:
// create, noop, tag, replace, adopt, delete or conflict.
//
// plan is pure: Diff reads no clock, does no I/O and logs nothing, so it
// can be tested with golden files and runs fast at 100,000 endpoints.
// Listing, service resolution and quotas happen in the caller.
package plan
