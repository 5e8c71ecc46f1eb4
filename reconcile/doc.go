// Package reconcile is the engine between the command line and the
// layers below it: it connects to the targets the manifests name (one
// client and one adaptive rate limiter per region and project, tokens
// shared per project), observes them (lists the endpoints, resolves the
// endpoint services, reads the quota), makes plans (plan.Diff), checks a
// saved plan against a fresh listing, and applies plans (apply.Run).
//
// It takes its configuration as values (credentials, limits, logger,
// metrics); it reads no flags, no environment and no files, and never
// exits: package main maps flags to a Config and errors to exit codes.
//
// Errors that a rerun will not fix are recognisable as such: manifest
// problems (*manifests.Error), plan files that are stale or edited
// (plan.ErrStale, plan.ErrNotOwned, plan.ErrScope) and configuration
// problems (*otc.ConfigError); see Invalid.
package reconcile
