// Package metrics holds vpcepctl's metric families (DESIGN.md "Metrics"),
// on one registry of the caller's, and exports a run's: served on an
// address while the run lasts, pushed to a Pushgateway and written in the
// textfile format at its end. A *Metrics is what otc observes (requests,
// retries, requests in flight) and what apply records (changes).
package metrics
