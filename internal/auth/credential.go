package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// maxCredential bounds an Authorization value; a key is 50 bytes.
const maxCredential = 4096

// ErrBadCredential is a malformed Authorization value.
var ErrBadCredential = errors.New("malformed Authorization header")

// Credential returns the key an Authorization value carries, in the
// schemes shippers send:
//
//	Bearer KEY                  Loki push clients, OTLP exporters, curl
//	ApiKey base64(ID:KEY)       Elasticsearch clients, Filebeat, Logstash (ID is ignored)
//	ApiKey KEY                  the same without an ID
//	Basic base64(USER:KEY)      Fluent Bit, Promtail, Logstash, Filebeat (USER is ignored)
//
// An empty value is no credential: "" and nil.
func Credential(authz string) (string, error) {
	if authz == "" {
		return "", nil
	}
	if len(authz) > maxCredential {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrBadCredential, len(authz), maxCredential)
	}
	scheme, value, ok := strings.Cut(strings.TrimSpace(authz), " ")
	value = strings.TrimSpace(value)
	if !ok || value == "" {
		return "", fmt.Errorf("%w: want 'Bearer KEY', 'ApiKey …' or 'Basic …'", ErrBadCredential)
	}
	switch strings.ToLower(scheme) {
	case "bearer":
		return value, nil
	case "apikey":
		if b, err := base64.StdEncoding.DecodeString(value); err == nil {
			if _, key, ok := strings.Cut(string(b), ":"); ok && key != "" {
				return key, nil
			}
		}
		return value, nil
	case "basic":
		b, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return "", fmt.Errorf("%w: basic credentials are not base64", ErrBadCredential)
		}
		_, key, ok := strings.Cut(string(b), ":")
		if !ok || key == "" {
			return "", fmt.Errorf("%w: basic credentials want USER:KEY, the key as password", ErrBadCredential)
		}
		return key, nil
	}
	return "", fmt.Errorf("%w: scheme %.20q is not Bearer, ApiKey or Basic", ErrBadCredential, scheme)
}
