package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// A partition is one tenant's records of one UTC day, in one directory:
//
//	YYYYMMDD                 the default tenant ""
//	YYYYMMDD.t<hex>          a tenant of up to maxHexTenant bytes, hex-encoded
//	YYYYMMDD.h<32 hex>       a longer tenant: the first 16 bytes of its sha256
//
// Tenants are arbitrary strings from a request header, so their bytes never
// reach a file name directly; hex keeps short ones readable by tools and
// reversible, and hashing keeps long ones within file-name limits (128 bits
// make a collision as unlikely as a part checksum collision; even then,
// blocks carry their tenant, so searches stay correct). Keeping tenants in
// separate partitions lets retention drop one tenant's day without touching
// another's, and lets a search skip other tenants' partitions unread.

const partitionLayout = "20060102"

// maxHexTenant is the longest tenant (in bytes) spelled out in hex; longer
// ones are hashed so that a partition name stays far below NAME_MAX.
const maxHexTenant = 64

var partitionRe = regexp.MustCompile(`^[0-9]{8}(\.t(?:[0-9a-f]{2}){1,64}|\.h[0-9a-f]{32})?$`)

// tenantSuffix is what follows the day in the names of tenant's partitions.
func tenantSuffix(tenant string) string {
	switch {
	case tenant == "":
		return ""
	case len(tenant) <= maxHexTenant:
		return ".t" + hex.EncodeToString([]byte(tenant))
	default:
		sum := sha256.Sum256([]byte(tenant))
		return ".h" + hex.EncodeToString(sum[:16])
	}
}

// partitionOf names tenant's partition of the UTC day of a Unix-nanosecond
// time.
func partitionOf(tenant string, t int64) string {
	return time.Unix(0, t).UTC().Format(partitionLayout) + tenantSuffix(tenant)
}

// partitionSuffix is the tenant part of a partition name (see tenantSuffix).
func partitionSuffix(partition string) string {
	if len(partition) < len(partitionLayout) {
		return ""
	}
	return partition[len(partitionLayout):]
}

// partitionBounds is the [start, end) of a partition in Unix nanoseconds.
func partitionBounds(partition string) (start, end int64, ok bool) {
	if !partitionRe.MatchString(partition) {
		return 0, 0, false
	}
	t, err := time.Parse(partitionLayout, partition[:len(partitionLayout)])
	if err != nil {
		return 0, 0, false
	}
	return t.UnixNano(), t.Add(24 * time.Hour).UnixNano(), true
}

// tenantLabel describes the tenant of partitions with suffix for logs and
// manifest reasons: the tenant itself when the name spells it out.
func tenantLabel(suffix string) string {
	switch {
	case suffix == "":
		return `tenant ""`
	case strings.HasPrefix(suffix, ".t"):
		if b, err := hex.DecodeString(suffix[2:]); err == nil {
			return fmt.Sprintf("tenant %q", b)
		}
	}
	return fmt.Sprintf("tenant with sha256 prefix %s", strings.TrimPrefix(suffix, ".h"))
}
