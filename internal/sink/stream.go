package sink

import (
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// DefaultTenantStream is the stream name part of the default tenant ("").
const DefaultTenantStream = "default"

// maxTenantPart bounds the tenant's part of a stream name, so that the
// backing indices' names (.ds-<stream>-yyyy.MM.dd-000001) stay well under
// the clusters' 255-byte limit.
const maxTenantPart = 100

// StreamName is the data stream of a tenant: <prefix>-<tenant>. A tenant
// name is used as it is when it is made of lower-case letters, digits and
// '_' (what every cluster takes in an index name, and no '-', so that one
// tenant's name never looks like another's stream with a suffix);
// otherwise its other characters become '_' and 8 hex digits of its hash
// are appended (a hash of the name in hex), so that "Team-A" and "team_a"
// get different streams.
func StreamName(prefix, tenant string) string {
	if tenant == "" {
		return prefix + "-" + DefaultTenantStream
	}
	clean := true
	b := make([]byte, 0, len(tenant)+9)
	for i := 0; i < len(tenant); i++ {
		c := tenant[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' {
			b = append(b, c)
			continue
		}
		clean = false
		if c >= 'A' && c <= 'Z' {
			b = append(b, c+('a'-'A'))
		} else {
			b = append(b, '_')
		}
	}
	if len(b) > maxTenantPart {
		b, clean = b[:maxTenantPart], false
	}
	if !clean {
		b = append(b, '_')
		b = strconv.AppendUint(b, xxhash.Sum64String(tenant)&0xffffffff, 16)
	}
	return prefix + "-" + string(b)
}
