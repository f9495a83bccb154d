package trust

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func init() { Register("s3", openS3Witness) }

// s3Witness writes the head as <prefix>/head.json in a bucket, and every
// head also as <prefix>/heads/<seq 20 digits>.json: in a bucket with
// object lock (compliance mode), those objects cannot be deleted or
// overwritten by the node's own credentials, so the history of heads
// survives whoever owns the node.
type s3Witness struct {
	client *minio.Client
	bucket string
	prefix string
}

func openS3Witness(u *url.URL, _ Env) (Witness, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("s3 witness URL names no bucket: s3://bucket/prefix")
	}
	endpoint, secure := "s3.amazonaws.com", true
	if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || eu.Host == "" {
			return nil, fmt.Errorf("AWS_ENDPOINT_URL %q: want scheme://host[:port]", e)
		}
		endpoint, secure = eu.Host, eu.Scheme == "https"
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewEnvAWS(),
		Secure: secure,
		Region: os.Getenv("AWS_REGION"),
	})
	if err != nil {
		return nil, err
	}
	return &s3Witness{client: c, bucket: u.Host, prefix: strings.Trim(u.Path, "/")}, nil
}

func (w *s3Witness) key(name string) string {
	if w.prefix == "" {
		return name
	}
	return w.prefix + "/" + name
}

func (w *s3Witness) Put(ctx context.Context, h Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	if _, err := w.client.PutObject(ctx, w.bucket, w.key(fmt.Sprintf("heads/%020d.json", h.Seq)), bytes.NewReader(b), int64(len(b)), opts); err != nil {
		return fmt.Errorf("put head %d in s3://%s: %w", h.Seq, w.bucket, err)
	}
	if _, err := w.client.PutObject(ctx, w.bucket, w.key("head.json"), bytes.NewReader(b), int64(len(b)), opts); err != nil {
		return fmt.Errorf("put head in s3://%s: %w", w.bucket, err)
	}
	return nil
}

// Get returns the newest head: the one with the greatest entry under
// heads/ (head.json could be overwritten by an older one; the per-entry
// objects under object lock cannot).
func (w *s3Witness) Get(ctx context.Context) (Head, bool, error) {
	var newest string
	for obj := range w.client.ListObjects(ctx, w.bucket, minio.ListObjectsOptions{Prefix: w.key("heads/")}) {
		if obj.Err != nil {
			return Head{}, false, fmt.Errorf("list heads in s3://%s: %w", w.bucket, obj.Err)
		}
		newest = max(newest, obj.Key) // zero-padded: names sort as numbers
	}
	if newest == "" {
		return Head{}, false, nil
	}
	o, err := w.client.GetObject(ctx, w.bucket, newest, minio.GetObjectOptions{})
	if err != nil {
		return Head{}, false, err
	}
	defer o.Close()
	var h Head
	if err := json.NewDecoder(io.LimitReader(o, 1<<20)).Decode(&h); err != nil {
		return Head{}, false, fmt.Errorf("read s3://%s/%s: %w", w.bucket, newest, err)
	}
	return h, true, nil
}

func (w *s3Witness) Close() error { return nil }
