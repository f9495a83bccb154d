package store

import (
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
}

// Audit is Verify that also returns the manifest's head, and checks that
// each anchor (a head recorded by an earlier Audit) is still an entry of
// the chain with the same hash. The chain alone shows that no entry was
// changed, removed or reordered in place; an anchor also catches a history
// rewritten wholesale, with every hash recomputed, or cut back to before it.
func Audit(dir string, anchors ...Anchor) (Report, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Report{}, fmt.Errorf("read manifest: %w", err)
	}
	dec, err := newDecoder(maxDecoderMemory)
	if err != nil {
		return Report{}, err
	}
	defer dec.Close()
	var problems []Problem
	state := newManifestState()
	lines := parseManifest(data)
	for i := range lines {
		l := &lines[i]
		switch {
		case l.torn && i == len(lines)-1:
			problems = append(problems, Problem{Kind: ProblemTornTail, Detail: fmt.Sprintf("%d bytes without a newline after entry %d", l.end-lastGoodEnd(lines, i), state.seq)})
			continue
		case l.err != nil:
			problems = append(problems, chainProblems(i+1, l)...)
			if l.entry.validate() != nil {
				continue
			}
		}
		state.apply(&l.entry)
	}
	problems = append(problems, checkAnchors(lines, anchors)...)

	refs := make([]partRef, 0, len(state.live))
	for _, ref := range state.live {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, func(a, b partRef) int { return strings.Compare(a.id(), b.id()) })
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
		_, err = checkPart(f, ref, dec)
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
	r := Report{Problems: problems, Head: Anchor{Seq: state.seq, Hash: state.hash}, Parts: len(refs)}
	for _, ref := range refs {
		r.Records += ref.Records
	}
	return r, nil
}

func lastGoodEnd(lines []manifestLine, i int) int64 {
	if i == 0 {
		return 0
	}
	return lines[i-1].end
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
	s.mergeMu.Lock()
	defer s.mergeMu.Unlock()
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return Verify(s.dir)
}

// chainProblems reports a manifest line that breaks the chain, once per part
// the entry claims to add or remove (so that the report names the parts
// whose history can no longer be trusted), or once for the line when it
// names none.
func chainProblems(lineNo int, l *manifestLine) []Problem {
	detail := fmt.Sprintf("line %d: %v", lineNo, l.err)
	var out []Problem
	for _, refs := range [][]partRef{l.entry.Added, l.entry.Removed} {
		for _, ref := range refs {
			if ref.Partition != "" || ref.Name != "" {
				out = append(out, Problem{Kind: ProblemChain, Part: ref.id(), Detail: detail})
			}
		}
	}
	if len(out) == 0 {
		out = append(out, Problem{Kind: ProblemChain, Detail: detail})
	}
	return out
}
