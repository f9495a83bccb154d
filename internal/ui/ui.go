package ui

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var dist embed.FS

// prefix is where the UI's files are served; Vite's base in web/vite.config.ts
// must match it.
const prefix = "/ui/"

// file is one embedded file, with its gzip form when that is smaller.
type file struct {
	body  []byte
	gz    []byte
	ctype string
}

// Handler serves the embedded UI.
type Handler struct {
	files map[string]*file // path under dist → file
	once  sync.Once
	err   error
}

// New returns the handler of the embedded UI.
func New() *Handler { return &Handler{} }

// load reads and compresses every file once, on first use, so that
// `sluice serve` starts as fast without the UI as with it.
func (h *Handler) load() error {
	h.once.Do(func() {
		h.files = map[string]*file{}
		h.err = fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := dist.ReadFile(p)
			if err != nil {
				return fmt.Errorf("read embedded %s: %w", p, err)
			}
			f := &file{body: body, ctype: mime.TypeByExtension(path.Ext(p))}
			if f.ctype == "" {
				f.ctype = http.DetectContentType(body)
			}
			if gz := gzipped(body); len(gz) < len(body)*9/10 {
				f.gz = gz
			}
			h.files[strings.TrimPrefix(p, "dist/")] = f
			return nil
		})
	})
	return h.err
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// ServeHTTP answers a file under /ui/, or index.html for any other page of
// the UI (the browser-side router reads the URL).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.load(); err != nil {
		http.Error(w, "web UI: "+err.Error(), http.StatusInternalServerError)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, prefix)
	f, ok := h.files[name]
	switch {
	case ok && strings.HasPrefix(name, "assets/"):
		// Asset names carry a content hash: they never change.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	case ok && name != "index.html":
		w.Header().Set("Cache-Control", "public, max-age=3600")
	case strings.HasPrefix(name, "assets/"):
		http.NotFound(w, r)
		return
	default:
		f = h.files["index.html"]
		if f == nil {
			http.Error(w, "web UI not built: run `make web`", http.StatusNotFound)
			return
		}
		// index.html names the current assets, so it must be revalidated.
		w.Header().Set("Cache-Control", "no-cache")
	}
	serve(w, r, f)
}

func serve(w http.ResponseWriter, r *http.Request, f *file) {
	hdr := w.Header()
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Add("Vary", "Accept-Encoding")
	body := f.body
	if f.gz != nil && acceptsGzip(r) {
		hdr.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	// ServeContent answers Range and HEAD; the embedded files have no mtime.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
