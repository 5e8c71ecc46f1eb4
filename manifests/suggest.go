package manifests

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// scope is the kind of mapping a key was found in.
type scope int

const (
	ctxManifest scope = iota
	ctxDefaults
	ctxEndpoint
	ctxStatement
)

func (s scope) String() string {
	return [...]string{"manifest", "defaults", "endpoint", "policy statement"}[s]
}

// keys returns the keys valid in s.
func (s scope) keys() []string {
	switch s {
	case ctxManifest:
		return topKeys[:]
	case ctxDefaults:
		return fieldKeys[1:]
	case ctxEndpoint:
		return fieldKeys[:]
	}
	return statementKeys[:]
}

// unknownKey reports a key that is not valid in s: with the right place
// for a key that belongs elsewhere, else with the closest valid key, else
// with the list of valid keys. It returns the key it suggested, if any.
func (p *parser) unknownKey(k *yaml.Node, key string, s scope) (suggested string) {
	_, isField := lookupField(key)
	isTop := lookupTop(key) >= 0
	switch {
	case s == ctxDefaults && key == "name":
		p.errorf(k, "name is not allowed in defaults, want it in each endpoint (names are unique in a set)")
	case s == ctxManifest && isField:
		p.errorf(k, "unknown key %q in manifest: endpoint fields go in defaults or in an endpoint", key)
	case (s == ctxEndpoint || s == ctxDefaults) && isTop:
		p.errorf(k, "unknown key %q in %s: %s is set once per document, at the top level", key, s, key)
	default:
		if best := suggest(key, s.keys()); best != "" {
			p.errorf(k, "unknown key %q in %s, did you mean %q?", key, s, best)
			return best
		} else {
			p.errorf(k, "unknown key %q in %s, want one of %s", key, s, strings.Join(s.keys(), ", "))
		}
	}
	return ""
}

// suggest returns the valid key closest to key, or "" if none is close.
// Keys are compared lower-case without "_" and "-", so vpcId, VPC-ID and
// effect find vpc_id and Effect; a key that is the start of a valid one
// (subnet, policy) finds it too.
func suggest(key string, valid []string) string {
	nk := normalizeKey(key)
	if nk == "" {
		return ""
	}
	best, bestDist := "", 1<<30
	for _, v := range valid {
		nv := normalizeKey(v)
		d := editDistance(nk, nv)
		if len(nk) >= 4 && strings.HasPrefix(nv, nk) {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = v, d
		}
	}
	if bestDist <= max(1, min(3, len(nk)/3)) {
		return best
	}
	return ""
}

func normalizeKey(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(s)
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20 // not a typo of a key
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
