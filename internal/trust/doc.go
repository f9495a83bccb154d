// Package trust holds what makes tampering with a data directory evident
// to someone who can write it: the ed25519 signing key (kept outside the
// data directory), the chain head that the store's manifest and the WAL
// reach, and witnesses, places outside the node that keep the latest head
// so that a data directory cut back or rolled back to an older copy is
// caught (see docs/storage.md, "Threat model").
//
// Witnesses are a registry of kinds by URL scheme: file (another volume),
// http and https (another Sluice's /api/v1/witness endpoint), s3 (an
// object store bucket) and kafka (a topic). A kind is one file that
// registers its constructor in init.
//
// The package knows nothing of the store's or the WAL's formats: it signs
// and checks heads, and moves them to and from witnesses.
package trust
