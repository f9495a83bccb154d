package store

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/durable"
)

// Open opens (or creates) the store in dir. It replays the manifest (from
// its last checkpoint), truncates a torn last entry (a commit that never
// finished), deletes files no committed entry references (leftovers of
// interrupted flushes and merges) and moves referenced parts that are
// missing or of the wrong size to dir/quarantine, logging each, so the
// rest keeps serving. It reads no part: their files are opened when a
// search first reads them, and their sha256 is checked by Scrub (see
// scrub.go), so that opening takes time in proportion to the partitions
// and parts, not to the bytes stored.
func Open(dir string, opts Options, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create store dir %s: %w", dir, err)
	}
	if err := mkdirDurable(filepath.Join(dir, partitionsDir)); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	man, err := openManifest(dir, opts.ManifestCheckpointEntries, opts.SigningKey, log)
	if err != nil {
		return nil, err
	}
	enc, dec, err := newCodecs(opts.ZstdLevel)
	if err != nil {
		_ = man.f.Close()
		return nil, err
	}
	// One merge at a time per lane, each writing one column at a time.
	menc, err := newEncoder(opts.MergeZstdLevel, int(numLanes))
	if err != nil {
		enc.Close()
		dec.Close()
		_ = man.f.Close()
		return nil, err
	}
	senc, err := newEncoder(opts.ZstdLevel, 1)
	if err != nil {
		enc.Close()
		menc.Close()
		dec.Close()
		_ = man.f.Close()
		return nil, err
	}
	s := &Store{
		dir: dir, opts: opts, log: log, enc: enc, menc: menc, senc: senc, dec: dec, man: man,
		active:      newHead(),
		parts:       make(map[string]map[string]*part),
		quarantined: make(map[string]quarantinedPart),
		merging:     make(map[*part]bool),
		policy:      mergePolicy{fanIn: opts.MergeFanIn, idleAfter: opts.IdleMergeAfter, quietAfter: opts.QuietAfter},
	}
	s.pio = &partIO{
		files: newFileCache(opts.MaxOpenFiles, func(p *part) (partFile, error) { return openPartFile(p.path, p.size) }),
		index: newIndexCache(opts.IndexCacheBytes),
		dec:   dec,
	}
	s.lifeCtx, s.endLife = context.WithCancel(context.Background())
	s.pio.check = s.checkOnRead
	s.durable.Store(man.state.watermark)
	if man.state.maxName != "" {
		n, err := strconv.ParseUint(man.state.maxName, 16, 64)
		if err == nil {
			s.nextName = n + 1
		}
	}
	sizes, err := s.removeGarbage()
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.loadParts(sizes)
	log.Info("store opened", "dir", dir, "parts", len(man.state.live), "quarantined", len(s.quarantined),
		"durable_seq", man.state.watermark, "manifest_seq", man.state.seq, "manifest_entries_replayed", man.replayed,
		"index_cache_bytes", opts.IndexCacheBytes, "max_open_files", opts.MaxOpenFiles)
	return s, nil
}

// openManifest reads and replays dir's manifest, creating it if absent. A
// damaged complete entry is an error, even the last: without a trustworthy
// list of live parts, deleting unreferenced files could destroy data.
func openManifest(dir string, checkpointEvery int, key ed25519.PrivateKey, log *slog.Logger) (*manifest, error) {
	path := filepath.Join(dir, manifestName)
	// A checkpoint interrupted before its renames leaves temporary files.
	leftovers, _ := filepath.Glob(filepath.Join(dir, archiveDir, "*"+tmpExt))
	for _, tmp := range append(leftovers, path+tmpExt) {
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove %s: %w", tmp, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open manifest %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	if len(data) == 0 {
		if err := durable.SyncDir(dir); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	m := &manifest{dir: dir, f: f, state: newManifestState(), log: log, checkpointEvery: checkpointEvery, key: key}
	var pub ed25519.PublicKey
	if key != nil {
		pub = key.Public().(ed25519.PublicKey)
	}
	var signedSince uint64
	lines := parseManifest(data)
	good := int64(0)
	for i := range lines {
		l := &lines[i]
		if l.torn {
			// Entries are written with their newline in one write and
			// synced before a commit returns, so a line without its newline
			// is a commit that never finished.
			log.Warn("truncating uncommitted manifest tail", "path", path, "offset", good, "bytes", int64(len(data))-good)
			if err := truncateSync(f, good); err != nil {
				_ = f.Close()
				return nil, err
			}
			break
		}
		if l.err == nil && pub != nil {
			l.err = checkEntrySig(&l.entry, pub, signedSince)
			if l.entry.Sig != "" && signedSince == 0 {
				signedSince = l.entry.Seq
			}
		}
		if l.err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("replay manifest %s: entry %d of %d is damaged (run verify): %w", path, i+1, len(lines), l.err)
		}
		m.state.apply(&l.entry)
		if m.entries == 0 {
			m.firstSeq = l.entry.Seq
		}
		m.entries++
		m.lastOp = l.entry.Op
		good = l.end
	}
	m.size, m.replayed = good, m.entries
	m.head.Store(&Anchor{Seq: m.state.seq, Hash: m.state.hash})
	if m.entries > checkpointEvery {
		// A checkpoint that failed or was interrupted: take it now, so
		// that the next start replays little.
		if err := m.checkpoint(); err != nil {
			log.Warn("manifest checkpoint failed; the manifest keeps growing until one succeeds", "err", err)
		}
	}
	return m, nil
}

func truncateSync(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate manifest: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync manifest: %w", err)
	}
	return nil
}

// removeGarbage deletes temporary files and part files the manifest does
// not reference, and empty partition directories. It returns the size of
// each live part's file it found, by partRef.id().
func (s *Store) removeGarbage() (map[string]int64, error) {
	root := filepath.Join(s.dir, partitionsDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list partitions in %s: %w", root, err)
	}
	sizes := make(map[string]int64, len(s.man.state.live))
	for _, pe := range entries {
		if !pe.IsDir() || !partitionRe.MatchString(pe.Name()) {
			continue
		}
		pdir := filepath.Join(root, pe.Name())
		files, err := os.ReadDir(pdir)
		if err != nil {
			return nil, fmt.Errorf("list partition %s: %w", pdir, err)
		}
		removed, kept := 0, 0
		for _, fe := range files {
			name := fe.Name()
			base, isPart := strings.CutSuffix(name, partExt)
			switch {
			case strings.HasSuffix(name, tmpExt):
			case isPart:
				if _, live := s.man.state.live[pe.Name()+"/"+base]; live {
					kept++
					if info, err := fe.Info(); err == nil {
						sizes[pe.Name()+"/"+base] = info.Size()
					}
					continue
				}
			default:
				kept++
				continue // not ours
			}
			path := filepath.Join(pdir, name)
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("remove unreferenced file %s: %w", path, err)
			}
			s.log.Info("removed unreferenced file", "path", path)
			removed++
		}
		if removed > 0 {
			if err := durable.SyncDir(pdir); err != nil {
				return nil, err
			}
		}
		if kept == 0 {
			_ = os.Remove(pdir)
		}
	}
	return sizes, nil
}

// loadParts serves every live part whose file removeGarbage found with the
// manifest's size (sizes); the others are quarantined. No file is opened.
func (s *Store) loadParts(sizes map[string]int64) {
	var loaded []*part
	for _, ref := range s.man.state.live {
		path := s.partPath(ref)
		size, found := sizes[ref.id()]
		if !found || size != ref.Size {
			if cause, ok := s.quarantinedBefore(ref); ok && !found {
				s.log.Warn("part still quarantined", "part", ref.id(), "err", cause)
				s.quarantined[ref.id()] = quarantinedPart{ref: ref, cause: cause}
				continue
			}
			err := fmt.Errorf("%w: part file %s is missing", errCorrupt, path)
			if found {
				err = fmt.Errorf("%w: part %s has %d bytes, manifest says %d", errCorrupt, path, size, ref.Size)
			}
			s.log.Error("part unusable, quarantined", "part", ref.id(), "err", err)
			s.quarantined[ref.id()] = quarantinedPart{ref: ref, cause: err.Error()}
			s.quarantine(path, ref, err.Error())
			continue
		}
		p := newPart(ref, path, s.pio)
		s.addPartLocked(p)
		loaded = append(loaded, p)
	}
	s.queueScrub(loaded)
}

func (s *Store) partPath(ref partRef) string {
	return filepath.Join(s.dir, partitionsDir, ref.Partition, ref.Name+partExt)
}

// addPartLocked adds p to the served set; the caller holds mu (or owns s).
func (s *Store) addPartLocked(p *part) {
	ps := s.parts[p.partition]
	if ps == nil {
		ps = make(map[string]*part)
		s.parts[p.partition] = ps
	}
	ps[p.name] = p
	p.added = time.Now()
}
