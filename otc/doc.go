// Package otc is the client of the Open Telekom Cloud VPC Endpoint (VPCEP)
// API v1 and of the IAM token API it needs: authentication (password,
// token, AK/SK), the VPCEP calls vpcepctl makes, and typed errors whose
// classification drives every retry decision.
//
// The wire types in types.go are shared with package sim.
package otc
