package config

import (
	"fmt"
	"net/url"
	"time"
)

// TrustConfig configures tamper evidence that survives an attacker with
// write access to the data directory (docs/storage.md, "Threat model").
type TrustConfig struct {
	SigningKeyFile  string   `yaml:"signing_key_file" doc:"ed25519 signing key (PEM, made by sluice trust keygen --out PATH) that signs every WAL batch and every manifest entry, so that records or entries written from outside Sluice are refused on start and reported by sluice verify. Keep it outside data_dir (a start with the key inside it is refused), on a volume or secret mount the data directory's other writers cannot read. The environment variable SLUICE_SIGNING_KEY (the key's PEM text) is used when this is empty. Without a key nothing is signed: the hash chain then shows accidental damage, not tampering."`
	PublicKeyFile   string   `yaml:"public_key_file" doc:"The signing key's public half, which sluice verify --config checks signatures with (it needs no private key). Empty: signing_key_file with .pub appended, as sluice trust keygen writes it."`
	Witness         string   `yaml:"witness" doc:"Where the chain head (the manifest's last entry, its hash and the last WAL seq fsynced, signed) is pushed every witness_interval, so that a data directory rolled back to an older copy or cut back is caught by sluice verify: file:///path (a file on another volume), http(s)://host:port/api/v1/witness/NAME (another Sluice, which refuses a head older than the one it holds; NAME defaults to the host name), s3://bucket/prefix (an object store; endpoint and credentials from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; use a bucket with object lock so that the node's own credentials cannot roll it back) or kafka://topic (on kafka.brokers). Empty: no witness."`
	WitnessInterval Duration `yaml:"witness_interval" doc:"How often the chain head is pushed to the witness when it changed (and once at shutdown); what a rollback within this interval can hide."`
}

func defaultTrust(c *Config) {
	c.Trust.WitnessInterval = Duration(5 * time.Second)
}

func (c *Config) validateTrust() []error {
	var errs []error
	if c.Trust.WitnessInterval <= 0 {
		errs = append(errs, fmt.Errorf("trust.witness_interval must be positive"))
	}
	if c.Trust.Witness != "" {
		u, err := url.Parse(c.Trust.Witness)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("trust.witness: %w", err))
		case u.Scheme != "file" && u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "s3" && u.Scheme != "kafka":
			errs = append(errs, fmt.Errorf("trust.witness %q: want file:///path, http(s)://…, s3://bucket/prefix or kafka://topic", c.Trust.Witness))
		}
	}
	return errs
}

// PublicKeyPath is the public key sluice verify checks signatures with:
// trust.public_key_file, else trust.signing_key_file + ".pub" ("" when
// neither is set).
func (t TrustConfig) PublicKeyPath() string {
	if t.PublicKeyFile != "" {
		return t.PublicKeyFile
	}
	if t.SigningKeyFile != "" {
		return t.SigningKeyFile + ".pub"
	}
	return ""
}
