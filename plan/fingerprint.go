package plan

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
)

// Fingerprint hashes what a plan's decisions depend on, so that apply can
// refuse a plan made from endpoints that have changed since (ErrStale). It
// reads only the targets and the observed endpoints of inputs, so the
// caller of apply can list again and compare without the manifests.
//
// Hashed are the shard, the targets, and for every endpoint Diff looks at
// (not deleting; in the shard, or without a set tag and so a candidate for
// any shard's adopt): its id, whether its status is usable, failed or
// rejected, its natural key and its tags. The fields fixed at create are
// not hashed: they cannot change without the id changing. So the
// fingerprint does not depend on the order of anything; an endpoint going
// from creating to accepted or pendingAcceptance, or from deleting to gone,
// leaves it as it was; an endpoint appearing, disappearing, failing or
// changing tags changes it; and a target with nothing observed still has
// one, which the first create changes (a plan re-applied after it ran is
// stale).
func Fingerprint(inputs []Input, shard Shard) string {
	targets := make([]Target, 0, len(inputs))
	n := 0
	for _, in := range inputs {
		targets = append(targets, in.Target)
		n += len(in.Observed)
	}
	slices.SortFunc(targets, compareTargets)
	targets = slices.Compact(targets)

	sums := make([][sha256.Size]byte, 0, n)
	var line []byte
	var tags []otc.Tag
	for _, in := range inputs {
		for i := range in.Observed {
			e := &in.Observed[i]
			if e.Status == otc.StatusDeleting {
				continue
			}
			if set, ok := e.TagValue(manifests.TagSet); ok {
				name, _ := e.TagValue(manifests.TagName)
				if !shard.Contains(in.Target.ProjectID, set, name) {
					continue
				}
			}
			tags = append(tags[:0], e.Tags...)
			slices.SortFunc(tags, func(a, b otc.Tag) int {
				return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Value, b.Value))
			})
			line = line[:0]
			for _, f := range []string{in.Target.Region, in.Target.ProjectID, e.ID, statusClass(e.Status),
				e.EndpointServiceID, e.VPCID, e.SubnetID} {
				line = append(append(line, f...), 0)
			}
			for _, t := range tags {
				line = append(append(append(append(line, t.Key...), 1), t.Value...), 1)
			}
			sums = append(sums, sha256.Sum256(line))
		}
	}
	slices.SortFunc(sums, func(a, b [sha256.Size]byte) int {
		if x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8]); x != y {
			return cmp.Compare(x, y)
		}
		return bytes.Compare(a[:], b[:])
	})
	sums = slices.Compact(sums) // an endpoint listed twice counts once, as in Diff

	h := sha256.New()
	h.Write([]byte("vpcepctl plan fingerprint 1\nshard " + shard.String() + "\n"))
	for _, t := range targets {
		h.Write([]byte("target " + t.String() + "\n"))
	}
	for i := range sums {
		h.Write(sums[i][:])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// statusClass is the part of a status a plan depends on: creating,
// accepted and pendingAcceptance all serve, and none is replaced.
func statusClass(s string) string {
	switch s {
	case otc.StatusFailed, otc.StatusRejected:
		return s
	}
	return "usable"
}
