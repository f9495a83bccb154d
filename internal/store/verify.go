package store

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ProblemKind classifies what Verify found.
type ProblemKind string

// Problem kinds.
const (
	// ProblemChain: a manifest entry is unreadable, altered, out of order
	// or does not chain to the entry before it.
	ProblemChain ProblemKind = "chain"
	// ProblemTornTail: the manifest ends in a partial entry, a commit that
	// never finished (normal after a crash; Open removes it).
	ProblemTornTail ProblemKind = "torn-tail"
	// ProblemMissing: a part the manifest says is live does not exist.
	ProblemMissing ProblemKind = "missing"
	// ProblemChecksum: a live part's size or sha256 differs from the
	// manifest's, or its index does not decode.
	ProblemChecksum ProblemKind = "checksum"
	// ProblemUnreferenced: a part file that no manifest entry makes live;
	// left by an interrupted flush or merge, or a sign that the manifest
	// lost entries.
	ProblemUnreferenced ProblemKind = "unreferenced"
	// ProblemSignature: with a public key, a manifest entry whose
	// signature is missing or does not verify, or a manifest none of
	// whose entries is signed.
	ProblemSignature ProblemKind = "signature"
)

// Problem is one finding of Verify. Part is "partition/name" of the part
// concerned, or "" for the manifest itself.
type Problem struct {
	Kind   ProblemKind
	Part   string
	Detail string
}

func (p Problem) String() string {
	if p.Part == "" {
		return fmt.Sprintf("%s: %s", p.Kind, p.Detail)
	}
	return fmt.Sprintf("%s: part %s: %s", p.Kind, p.Part, p.Detail)
}

// Verify checks the store in dir without changing it: the manifest's hash
// chain, and that every live part exists and has the size and sha256 the
// manifest recorded. It returns an error only when it cannot do the check.
func Verify(dir string) ([]Problem, error) {
	r, err := Audit(dir)
	return r.Problems, err
}

// Report is the result of Audit.
type Report struct {
	Problems []Problem
	// Head is the manifest's last intact entry: recorded somewhere Sluice
	// cannot write, it lets a later Audit prove that the history up to it
	// was not rewritten (see Anchor).
	Head Anchor
	// Parts and Records count the live parts and the records they hold,
	// as the manifest records them.
	Parts   int
	Records int64
	// SignedSince is the first signed entry (0: none); entries before it
	// predate signing. Watermark is the WAL seq the live parts cover.
	SignedSince uint64
	Watermark   uint64
}

// Audit is Verify that also returns the manifest's head, and checks that
// each anchor (a head recorded by an earlier Audit) is still an entry of
// the chain with the same hash. The chain alone shows that no entry was
// changed, removed or reordered in place; an anchor also catches a history
// rewritten wholesale, with every hash recomputed, or cut back to before it.
// The chain is walked from entry 1 through the archived segments (see
// manifest.checkpoint) into manifest.log, so an anchor older than the last
// checkpoint is checked like any other.
func Audit(dir string, anchors ...Anchor) (Report, error) {
	return AuditSigned(dir, nil, anchors...)
}

// AuditSigned is Audit that, with pub set, also checks every entry's
// signature: once an entry is signed every later one must be, and a
// manifest with entries none of which is signed is a problem too.
func AuditSigned(dir string, pub ed25519.PublicKey, anchors ...Anchor) (Report, error) {
	segs, err := manifestSegments(dir)
	if err != nil {
		return Report{}, err
	}
	dec, err := newDecoder(maxDecoderMemory)
	if err != nil {
		return Report{}, err
	}
	defer dec.Close()
	w := chainWalk{state: newManifestState(), anchors: make(map[uint64]anchorCheck, len(anchors)), seen: make(map[uint64]string), pub: pub}
	for _, a := range anchors {
		w.anchors[a.Seq] = anchorCheck{Anchor: a}
	}
	for i, seg := range segs {
		data, err := os.ReadFile(seg)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Report{}, fmt.Errorf("read manifest: %w", err)
		}
		w.segment(filepath.Base(seg), data, i == len(segs)-1)
	}
	problems := append(w.problems, w.anchorProblems(anchors)...)
	state := w.state
	if pub != nil && w.signedSince == 0 && state.seq > 0 {
		problems = append(problems, Problem{Kind: ProblemSignature, Detail: fmt.Sprintf(
			"none of the manifest's %d entries is signed: it was written without the signing key, or rewritten", state.seq)})
	}

	refs := state.sortedLive()
	for _, ref := range refs {
		path := filepath.Join(dir, partitionsDir, ref.Partition, ref.Name+partExt)
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				problems = append(problems, Problem{Kind: ProblemMissing, Part: ref.id(), Detail: "file does not exist"})
				continue
			}
			return Report{}, fmt.Errorf("open part %s: %w", path, err)
		}
		err = checkPart(f, ref, dec)
		_ = f.Close()
		if err != nil {
			problems = append(problems, Problem{Kind: ProblemChecksum, Part: ref.id(), Detail: err.Error()})
		}
	}

	extra, err := unreferencedParts(dir, state)
	if err != nil {
		return Report{}, err
	}
	for _, id := range extra {
		problems = append(problems, Problem{Kind: ProblemUnreferenced, Part: id, Detail: "part file not live in the manifest"})
	}
	r := Report{Problems: problems, Head: Anchor{Seq: state.seq, Hash: state.hash}, Parts: len(refs),
		SignedSince: w.signedSince, Watermark: state.watermark}
	for _, ref := range refs {
		r.Records += ref.Records
	}
	return r, nil
}

// manifestSegments lists the files of the manifest's history in order:
// the archived segments by their first entry, then manifest.log.
func manifestSegments(dir string) ([]string, error) {
	names, err := filepath.Glob(filepath.Join(dir, archiveDir, "*.log"))
	if err != nil {
		return nil, fmt.Errorf("list manifest archive: %w", err)
	}
	// Names are zero-padded sequence numbers, so they sort as numbers.
	slices.Sort(names)
	return append(names, filepath.Join(dir, manifestName)), nil
}

// chainWalk checks the manifest's history segment by segment, replaying
// it into state.
type chainWalk struct {
	state    *manifestState
	problems []Problem
	anchors  map[uint64]anchorCheck
	// last is the last intact entry so far; a segment after the first
	// must start with it (the checkpoint that ended the one before).
	last *manifestEntry
	// seen holds the hashes of the entries of the segment walked last.
	seen map[uint64]string
	// pub checks signatures when set; signedSince is the first signed
	// entry met.
	pub         ed25519.PublicKey
	signedSince uint64
}

type anchorCheck struct {
	Anchor
	found bool
}

// segment walks the lines of one segment (name, for messages); tail says
// that it is manifest.log, whose last line may be torn.
func (w *chainWalk) segment(name string, data []byte, tail bool) {
	lines := parseManifest(data)
	skipped := 0 // lines of the file already walked in the segment before
	switch {
	case len(lines) == 0:
	case w.last == nil:
		if first := &lines[0].entry; lines[0].err == nil && first.Seq != 1 {
			w.problems = append(w.problems, Problem{Kind: ProblemChain, Detail: fmt.Sprintf(
				"%s starts with entry %d: the history before it is missing from %s", name, first.Seq, archiveDir)})
		}
	default:
		// The segment starts with the checkpoint that ended the segment
		// before, or (when a crash interrupted a checkpoint after its
		// archive copy) repeats that segment: the repeated entries must
		// be the same.
		for skipped < len(lines) && !lines[skipped].torn && lines[skipped].entry.Seq <= w.last.Seq {
			e := &lines[skipped].entry
			if lines[skipped].err != nil || w.seen[e.Seq] != e.Hash {
				break
			}
			skipped++
		}
		if skipped == 0 || lines[skipped-1].entry.Seq != w.last.Seq {
			w.problems = append(w.problems, Problem{Kind: ProblemChain, Detail: fmt.Sprintf(
				"%s does not continue from entry %d, the checkpoint that ends the segment before it: history is missing or was replaced", name, w.last.Seq)})
			skipped = 0
		}
	}
	clear(w.seen)
	for _, l := range lines[:skipped] {
		w.seen[l.entry.Seq] = l.entry.Hash
	}
	lines = lines[skipped:]
	for i := range lines {
		l := &lines[i]
		switch {
		case l.torn && tail && i == len(lines)-1:
			lastEnd := int64(0)
			if i > 0 {
				lastEnd = lines[i-1].end
			}
			w.problems = append(w.problems, Problem{Kind: ProblemTornTail, Detail: fmt.Sprintf("%d bytes without a newline after entry %d", l.end-lastEnd, w.state.seq)})
			continue
		case l.err != nil:
			w.problems = append(w.problems, chainProblems(name, skipped+i+1, l, ProblemChain)...)
			if l.entry.validate() != nil {
				continue
			}
		}
		e := &l.entry
		if e.Op == opCheckpoint && l.err == nil && !w.state.sameLive(e.Live) {
			w.problems = append(w.problems, Problem{Kind: ProblemChain, Detail: fmt.Sprintf(
				"%s: checkpoint entry %d lists %d live parts, which is not the live set its history yields (%d parts)", name, e.Seq, len(e.Live), len(w.state.live))})
		}
		if w.pub != nil && l.err == nil {
			if err := checkEntrySig(e, w.pub, w.signedSince); err != nil {
				w.problems = append(w.problems, chainProblems(name, skipped+i+1, &manifestLine{entry: *e, err: err}, ProblemSignature)...)
			}
			if e.Sig != "" && w.signedSince == 0 {
				w.signedSince = e.Seq
			}
		}
		if a, ok := w.anchors[e.Seq]; ok && !l.torn {
			a.found = true
			if e.Hash != a.Hash {
				w.problems = append(w.problems, Problem{Kind: a.kind(), Detail: fmt.Sprintf(
					"entry %d has hash %s, but %s recorded %s: the history up to it was rewritten", a.Seq, e.Hash, a.source(), a.Hash)})
			}
			w.anchors[e.Seq] = a
		}
		w.state.apply(e)
		if l.err == nil {
			w.last = e
			w.seen[e.Seq] = e.Hash
		}
	}
	if !tail && (w.last == nil || w.last.Op != opCheckpoint) {
		w.problems = append(w.problems, Problem{Kind: ProblemChain, Detail: fmt.Sprintf("archived segment %s does not end with a checkpoint", name)})
	}
}

// anchorProblems reports the anchors the walk did not meet.
func (w *chainWalk) anchorProblems(anchors []Anchor) []Problem {
	var out []Problem
	for _, a := range anchors {
		if !w.anchors[a.Seq].found {
			out = append(out, Problem{Kind: a.kind(), Detail: fmt.Sprintf(
				"entry %d (recorded as %s by %s) is not in the manifest, which ends at entry %d: the data directory was rolled back or its newest entries cut",
				a.Seq, a.Hash, a.source(), w.state.seq)})
		}
	}
	return out
}

func unreferencedParts(dir string, state *manifestState) ([]string, error) {
	root := filepath.Join(dir, partitionsDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	var out []string
	for _, pe := range entries {
		if !pe.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, pe.Name()))
		if err != nil {
			return nil, fmt.Errorf("list partition %s: %w", pe.Name(), err)
		}
		for _, fe := range files {
			base, ok := strings.CutSuffix(fe.Name(), partExt)
			if !ok {
				continue
			}
			if _, live := state.live[pe.Name()+"/"+base]; !live {
				out = append(out, pe.Name()+"/"+base)
			}
		}
	}
	return out, nil
}

// Verify checks the open store like the package-level Verify. It holds off
// flushes, merges and retention while it runs, so that files in transit are
// not reported.
func (s *Store) Verify() ([]Problem, error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	for i := range s.laneMu {
		s.laneMu[i].Lock()
		defer s.laneMu[i].Unlock()
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return Verify(s.dir)
}

// chainProblems reports a manifest line that breaks the chain, once per part
// the entry claims to add or remove (so that the report names the parts
// whose history can no longer be trusted), or once for the line when it
// names none.
func chainProblems(segment string, lineNo int, l *manifestLine, kind ProblemKind) []Problem {
	detail := fmt.Sprintf("line %d: %v", lineNo, l.err)
	if segment != manifestName {
		detail = fmt.Sprintf("%s/%s line %d: %v", archiveDir, segment, lineNo, l.err)
	}
	var out []Problem
	for _, refs := range [][]partRef{l.entry.Added, l.entry.Removed} {
		for _, ref := range refs {
			if ref.Partition != "" || ref.Name != "" {
				out = append(out, Problem{Kind: kind, Part: ref.id(), Detail: detail})
			}
		}
	}
	if len(out) == 0 {
		out = append(out, Problem{Kind: kind, Detail: detail})
	}
	return out
}
