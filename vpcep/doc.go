// Package vpcep holds the documents of the Open Telekom Cloud VPC Endpoint
// (VPCEP) API v1: the JSON bodies the API takes and returns (endpoints,
// create requests, services, quotas, error bodies), the statuses and
// error codes it uses, and the checks that make an answer usable
// (DecodeList, DecodeEndpoint, ...). It does no I/O: the client (otc), the
// planner (plan) and the simulator (sim) share it, so the pure layers never
// import the HTTP client.
package vpcep
