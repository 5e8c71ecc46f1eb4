package otc

// This file holds URL handling that must not leak: VPCEP base URLs as
// catalogs write them, and errors stripped of the URLs (and queries) they
// carried.

import (
	"errors"
	"net/url"
	"strings"
)

// BaseURL strips a trailing /v1 or /v1/{project_id} (and slashes) from a
// VPCEP URL, as catalogs list it both ways.
func BaseURL(u string) string {
	u = strings.TrimRight(u, "/")
	if i := strings.LastIndex(u, "/v1/"); i >= 0 && !strings.Contains(u[i+4:], "/") {
		return u[:i]
	}
	return strings.TrimSuffix(u, "/v1")
}

// redactURLError keeps url.Error's operation and cause but drops the URL,
// which may carry query parameters.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
