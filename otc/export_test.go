package otc

// SetMaxBody lowers the response size limit for a test and returns a func
// that restores it. Tests that use it must not run in parallel.
func SetMaxBody(n int64) (restore func()) {
	old := maxBody
	maxBody = n
	return func() { maxBody = old }
}
