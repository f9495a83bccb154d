package esbulk

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
)

// The Elasticsearch version Sluice claims to be: clients pick their wire
// format from it, and 8.x clients refuse anything older.
const (
	esVersion       = "8.17.0"
	luceneVersion   = "9.12.0"
	minWireVersion  = "7.17.0"
	minIndexVersion = "7.0.0"
	clusterName     = "sluice"
	infoTagline     = "You Know, for Search"
)

type infoVersion struct {
	Number                           string `json:"number"`
	BuildFlavor                      string `json:"build_flavor"`
	BuildType                        string `json:"build_type"`
	BuildSnapshot                    bool   `json:"build_snapshot"`
	LuceneVersion                    string `json:"lucene_version"`
	MinimumWireCompatibilityVersion  string `json:"minimum_wire_compatibility_version"`
	MinimumIndexCompatibilityVersion string `json:"minimum_index_compatibility_version"`
}

type infoDoc struct {
	Name        string      `json:"name"`
	ClusterName string      `json:"cluster_name"`
	ClusterUUID string      `json:"cluster_uuid"`
	Version     infoVersion `json:"version"`
	Tagline     string      `json:"tagline"`
}

// newInfo returns the body of GET /, with a cluster UUID made up for this
// handler.
func newInfo() []byte {
	var uuid [16]byte
	_, _ = rand.Read(uuid[:]) // crypto/rand.Read never fails
	doc := infoDoc{
		Name:        clusterName,
		ClusterName: clusterName,
		ClusterUUID: base64.RawURLEncoding.EncodeToString(uuid[:]),
		Version: infoVersion{
			Number:                           esVersion,
			BuildFlavor:                      "default",
			BuildType:                        "tar",
			LuceneVersion:                    luceneVersion,
			MinimumWireCompatibilityVersion:  minWireVersion,
			MinimumIndexCompatibilityVersion: minIndexVersion,
		},
		Tagline: infoTagline,
	}
	// A struct of strings and a bool always marshals.
	b, _ := json.Marshal(doc)
	return append(b, '\n')
}
