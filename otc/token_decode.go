package otc

import (
	"encoding/json"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// decodeToken reads an IAM token answer: an object with a token object
// (project and catalog may be missing: the caller falls back to the
// project it asked for and to --endpoint).
func decodeToken(data []byte) (*tokenResponse, error) {
	var raw struct {
		Token *json.RawMessage `json:"token"`
	}
	if err := vpcep.DecodeObject("a token", data, &raw); err != nil {
		return nil, err
	}
	if raw.Token == nil {
		return nil, vpcep.NotDocument("no token object in a token answer")
	}
	var tr tokenResponse
	if err := vpcep.DecodeObject("a token", data, &tr); err != nil {
		return nil, err
	}
	return &tr, nil
}
