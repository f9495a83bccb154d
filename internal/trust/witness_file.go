package trust

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/sluice-log/sluice/internal/durable"
)

func init() { Register("file", openFileWitness) }

// fileWitness keeps the head in one JSON file, replaced atomically: on a
// volume the data directory's writers cannot reach (another disk, a
// network mount with its own credentials).
type fileWitness struct{ path string }

func openFileWitness(u *url.URL, _ Env) (Witness, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("file witness URLs name a local path: file:///path")
	}
	if u.Path == "" || u.Path == "/" {
		return nil, fmt.Errorf("file witness URL names no file")
	}
	return &fileWitness{path: u.Path}, nil
}

func (w *fileWitness) Put(_ context.Context, h Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return durable.WriteFile(w.path, append(b, '\n'), 0o644)
}

func (w *fileWitness) Get(_ context.Context) (Head, bool, error) { return readHead(w.path) }

func (w *fileWitness) Close() error { return nil }
