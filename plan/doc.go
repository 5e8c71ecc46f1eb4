// Package plan compares desired endpoints (from manifests) with the
// endpoints that exist (from the API) and decides what to do with each:
// create, noop, tag, replace, adopt, delete or conflict (DESIGN.md, "Plan").
//
// An endpoint is owned by a set when it carries the set's vpcepctl-set tag
// and the set is declared for its target; it is matched to a desired
// endpoint by its vpcepctl-name tag. Nothing else is ever changed, except
// an unmanaged endpoint (no set tag) with a desired endpoint's natural key
// (service and VPC, plus the subnet for interface services), which --adopt
// takes over. Every action whose flag was not given is a conflict that
// names the flag.
//
// plan is pure: Diff reads no clock, does no I/O and logs nothing, so it
// can be tested with golden files and diffs 100,000 endpoints in a fraction
// of a second. Listing, service resolution and quotas happen in the caller;
// Fingerprint lets apply check that a saved plan still describes what
// exists.
package plan
