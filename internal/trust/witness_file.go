package trust

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
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
	return writeAtomic(w.path, append(b, '\n'))
}

func (w *fileWitness) Get(_ context.Context) (Head, bool, error) { return readHead(w.path) }

func (w *fileWitness) Close() error { return nil }

// writeAtomic replaces path with data: a temporary file, fsync, rename,
// fsync of the directory.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
