// Package apply executes a plan: an errgroup worker pool, a rate limiter
// per target that adapts to throttling (AIMD), creates that are never
// doubled when a response is lost, waits for the asynchronous status, and a
// report of what was done.
package apply
