package trust

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Head is the state a node's data directory had reached when it was
// published: the manifest's last entry (its sequence number and chain
// hash) and the last WAL sequence number fsynced. Every entry's hash
// covers every entry before it, so a head commits to the whole history.
type Head struct {
	Seq    uint64    `json:"seq"`
	Hash   string    `json:"hash"`
	WALSeq uint64    `json:"wal_seq"`
	Time   time.Time `json:"time"`
	// Sig signs the fields above (see message); empty without a key.
	Sig string `json:"sig,omitempty"`
}

const headDomain = "sluice witness head v1\x00"

func (h Head) message() []byte {
	c := h
	c.Sig = ""
	b, _ := json.Marshal(c) // a struct of plain fields always encodes
	return append([]byte(headDomain), b...)
}

// Sign sets h.Sig with key (nil leaves it unsigned).
func (h *Head) Sign(key ed25519.PrivateKey) {
	if key == nil {
		h.Sig = ""
		return
	}
	h.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, h.message()))
}

// ErrHeadSignature says that a head read from a witness is not signed by
// the key verify was given.
var ErrHeadSignature = errors.New("witness head is not signed with the public key")

// Verify checks h's signature with pub.
func (h Head) Verify(pub ed25519.PublicKey) error {
	sig, err := base64.StdEncoding.DecodeString(h.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, h.message(), sig) {
		return fmt.Errorf("%w (entry %d)", ErrHeadSignature, h.Seq)
	}
	return nil
}

// HashNumber is the head's hash as a number that a float64 metric holds
// exactly: its first 6 bytes (48 bits), so that a scrape shows every change
// of the head and two scrapes can be compared with the witness's.
func (h Head) HashNumber() float64 {
	b, err := hex.DecodeString(h.Hash)
	if err != nil || len(b) < 6 {
		return 0
	}
	var x [8]byte
	copy(x[2:], b[:6])
	return float64(binary.BigEndian.Uint64(x[:]))
}
