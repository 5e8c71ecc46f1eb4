// Command vpcepctl keeps Open Telekom Cloud VPC endpoints in the state that
// YAML manifests declare. See README.md and docs/.
package main

import (
	"context"
	"os"
)

func main() {
	ctx, stop := notifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
