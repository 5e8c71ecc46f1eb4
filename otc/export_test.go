package otc

import "net/url"

// SetMaxBody lowers the response size limit for a test and returns a func
// that restores it. Tests that use it must not run in parallel.
func SetMaxBody(n int64) (restore func()) {
	old := maxBody
	maxBody = n
	return func() { maxBody = old }
}

// SetSystemClouds replaces the system-wide clouds.yaml path for a test (so
// that no test reads the machine's own) and returns a func that restores
// it. Tests that use it must not run in parallel.
func SetSystemClouds(path string) (restore func()) {
	old := systemClouds
	systemClouds = path
	return func() { systemClouds = old }
}

// HostKey is the key under which the server of raw is remembered as
// having answered.
func HostKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return hostKey(u)
}
