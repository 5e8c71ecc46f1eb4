package vpcep

// Well-known error codes. Compare with CodeIs, never with ==: the API
// spells the prefix both EndPoint and Endpoint.
const (
	CodeSystemError  = "EndPoint.0001"
	CodeThrottled    = "EndPoint.0022"
	CodeQuota        = "Endpoint.1018"
	CodeNotFound     = "EndPoint.2006"
	CodeTimedOut     = "EndPoint.0013"
	CodeAuthFailed   = "EndPoint.0003"
	CodeForbidden    = "EndPoint.0004"
	CodeResourceGone = "EndPoint.0005"
	// CodeNoService: the service does not exist, or (provider-side calls)
	// the project does not own it.
	CodeNoService = "EndPoint.2003"
	// CodeConnected: accepting a connection that is accepted already.
	CodeConnected = "EndPoint.2014"
)
