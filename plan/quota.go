package plan

// This file checks a plan's creates against the endpoint quota.

import (
	"fmt"
	"strconv"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// quotaWarning says so when creates (all: in every shard) do not fit in
// the quota q; "" when they fit or q is unknown.
func quotaWarning(t Target, creates, all int, shard Shard, q *vpcep.Quota) string {
	if q == nil || q.Quota <= 0 {
		return ""
	}
	room := max(q.Quota-q.Used, 0)
	switch {
	case shard.N > 1 && all > room:
		return fmt.Sprintf("%s: %s to create in all shards (%d in shard %s), but only %d more fit in the quota (%d of %d used); creates beyond it fail with Endpoint.1018",
			t, endpoints(all), creates, shard, room, q.Used, q.Quota)
	case creates > room:
		return fmt.Sprintf("%s: %s to create, but only %d more fit in the quota (%d of %d used); creates beyond it fail with Endpoint.1018",
			t, endpoints(creates), room, q.Used, q.Quota)
	}
	return ""
}

// QuotaWarnings checks the plan's creates against quotas read now (a plan
// read from a file has no warnings of its own: the quota may have changed
// since it was made).
func (p *Plan) QuotaWarnings(quotas map[Target]*vpcep.Quota) []string {
	creates := map[Target]int{}
	for i := range p.Changes {
		if p.Changes[i].Action == Create {
			creates[p.Changes[i].Target()]++
		}
	}
	var out []string
	for _, t := range p.Targets {
		if w := quotaWarning(t, creates[t], creates[t], Shard{}, quotas[t]); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func endpoints(n int) string {
	if n == 1 {
		return "1 endpoint"
	}
	return strconv.Itoa(n) + " endpoints"
}
