// Package manifests loads and validates the desired state of vpcepctl: YAML
// manifests that declare sets of VPC endpoints.
//
// A manifest file holds one or more documents; each document is one set:
//
//	version: 1
//	set: payments           # the ownership scope, [A-Za-z0-9_-]{1,36}
//	region: eu-de           # optional, default from the credentials
//	project_id: 0df2...     # optional, 32 hex digits, default from the credentials
//	defaults:               # optional, merged into every endpoint
//	  endpoint_service_id: 2da0fe8f-5cb7-4d93-bb35-dc05334da1be
//	  tags: {team: payments}
//	endpoints:
//	  - name: app-a         # unique in the set, [A-Za-z0-9_-]{1,43}
//	    vpc_id: 84758cf5-9c62-43ae-a778-3dbd8370c0a4
//	    subnet_id: 68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de
//
// Endpoint keys are the fields of the VPCEP create API in snake_case:
// endpoint_service_id or endpoint_service_name (exactly one), vpc_id,
// subnet_id, port_ip, enable_dns, whitelist, enable_whitelist, routetables,
// policy_statement (a list of {Effect, Action, Resource}, spelt as in the
// API), description, specification_name and tags (a mapping). defaults
// takes the same keys except name. An endpoint's own value wins over
// defaults; tags merge key by key; and naming either endpoint_service_id or
// endpoint_service_name in an endpoint replaces the service of defaults. An
// optional key without a value (null) is not set: in an endpoint it keeps
// the value of defaults out (a gateway endpoint beside interface defaults
// writes subnet_id: ~). Where a string is wanted a scalar is read as
// written, so 007 is a name and 4711 a tag value.
//
// Load and Parse check everything that can be checked offline and report
// every problem at once, each an *Error "FILE:LINE:COL: message" at the
// offending key or value: YAML syntax, unknown keys (with a suggestion),
// wrong types, missing fields, names, UUIDs, IPv4 addresses and CIDR blocks,
// tag rules, limits of the API, duplicate names in a set and a set declared
// twice for one region and project. What needs the endpoint service's type
// is checked later by Endpoint.CheckServiceType, still at the manifest's
// positions. YAML anchors, aliases and merge keys (<<) may be used.
package manifests
