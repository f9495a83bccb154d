package trust

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyEnv names the environment variable that may hold the signing key
// (the PEM text of the key file) instead of trust.signing_key_file.
const KeyEnv = "SLUICE_SIGNING_KEY"

// GenerateKey writes a new ed25519 signing key to path (PKCS #8 PEM, mode
// 0600) and its public key to path.pub (PKIX PEM), the format of openssl
// genpkey -algorithm ed25519. It refuses to overwrite either.
func GenerateKey(path string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(path+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	return pub, nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// LoadSigningKey reads the signing key from path, or, when path is "",
// from the environment variable KeyEnv; it returns nil (signing off) when
// neither is set.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	var data []byte
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read signing key: %w", err)
		}
		data = b
	case os.Getenv(KeyEnv) != "":
		data, path = []byte(os.Getenv(KeyEnv)), "$"+KeyEnv
	default:
		return nil, nil
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PEM PRIVATE KEY (make one with sluice trust keygen)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: %T, want an ed25519 key", path, k)
	}
	return key, nil
}

// LoadPublicKey reads a public key written by GenerateKey.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key %s: not a PEM PUBLIC KEY", path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s: %T, want an ed25519 key", path, k)
	}
	return pub, nil
}

// CheckOutside returns an error when the key file lies inside dataDir: a
// key stored with the data signs for whoever can write the data.
func CheckOutside(keyPath, dataDir string) error {
	if keyPath == "" {
		return nil
	}
	k, err1 := filepath.Abs(keyPath)
	d, err2 := filepath.Abs(dataDir)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if rk, err := filepath.EvalSymlinks(k); err == nil {
		k = rk
	}
	if rd, err := filepath.EvalSymlinks(d); err == nil {
		d = rd
	}
	if k == d || strings.HasPrefix(k, d+string(filepath.Separator)) {
		return fmt.Errorf("trust.signing_key_file %s is inside data_dir %s: whoever can write the data could sign with it; keep it on another volume or in %s", keyPath, dataDir, KeyEnv)
	}
	return nil
}
