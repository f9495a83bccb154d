package store

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSalvage damages the first block of a part of several blocks and
// deletes another part's file. A search quarantines the first; after a
// restart its cause is still the read's, not "missing". Salvage then
// rewrites it from its other blocks (a signed 'salvage' entry saying what
// was lost, the damaged file kept aside) and reports the other as not
// salvageable; searches return every record but the damaged block's and no
// longer report the salvaged part skipped; verify is clean once the
// missing part is dropped, and a second salvage finds nothing to do.
func TestSalvage(t *testing.T) {
	ctx := context.Background()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{BlockRecords: 40, SigningKey: key}
	fx := newCrashFixture(t)
	s := openTest(t, fx.dir, opts)
	// The first flush's part of most records: several blocks.
	var victim, missing string
	var victimRecords int64
	for _, id := range fx.partsOfFirst {
		ref := s.man.state.live[id]
		if ref.Records > victimRecords {
			victim, victimRecords = id, ref.Records
		}
	}
	for _, id := range fx.partsOfFirst {
		if id != victim && tenantOf(t, id) != tenantOf(t, victim) {
			missing = id
		}
	}
	if victimRecords <= 40 || missing == "" {
		t.Fatalf("fixture: victim %s of %d records, missing %q", victim, victimRecords, missing)
	}
	// Hashed first, so that the search's read meets the damage.
	if err := s.Scrub(ctx, 0); err != nil {
		t.Fatal(err)
	}
	damageFirstBlock(t, fx.dir, victim)
	if err := os.Remove(partPathOf(fx.dir, missing)); err != nil {
		t.Fatal(err)
	}
	owner := tenantOf(t, victim)
	if got := skippedBy(t, s, SearchRequest{Tenant: owner}); !slices.Equal(got, []string{victim}) {
		t.Fatalf("skipped %v, want the damaged part", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, fx.dir, opts)
	defer func() { _ = s.Close() }()
	causes := make(map[string]string)
	for _, q := range s.QuarantinedParts() {
		causes[q.ID] = q.Cause
	}
	if c := causes[victim]; !strings.Contains(c, "checksum mismatch") {
		t.Errorf("cause of %s after a restart: %q, want the read's checksum mismatch", victim, c)
	}
	if c := causes[missing]; !strings.Contains(c, "is missing") {
		t.Errorf("cause of %s after a restart: %q, want missing", missing, c)
	}

	reps, err := s.Salvage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 {
		t.Fatalf("salvage reports: %+v", reps)
	}
	var r SalvageReport
	for _, rep := range reps {
		switch rep.Part {
		case victim:
			r = rep
		case missing:
			if rep.Err == nil || rep.Output != "" {
				t.Errorf("the part whose file is gone: %s", rep)
			}
		default:
			t.Errorf("report of an undamaged part: %s", rep)
		}
	}
	t.Log(r)
	if r.Err != nil || r.Output == "" || r.BlocksLost != 1 || r.BlocksKept < 1 ||
		r.RecordsLost <= 0 || r.RecordsLost > 40 || r.RecordsKept+r.RecordsLost != victimRecords {
		t.Fatalf("salvage of %s: %+v", victim, r)
	}
	if !strings.Contains(r.Cause, "checksum mismatch") || len(r.Errors) != 1 {
		t.Errorf("cause %q, errors %q", r.Cause, r.Errors)
	}
	if _, err := os.Stat(quarantinedPath(fx.dir, victim) + damagedExt); err != nil {
		t.Errorf("damaged file not kept: %v", err)
	}
	if _, err := os.Stat(quarantinedPath(fx.dir, victim)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the damaged file still stands for a quarantined part: %v", err)
	}
	if got := s.Quarantined(); !slices.Equal(got, []string{missing}) {
		t.Errorf("quarantined after the salvage: %v", got)
	}
	if got := skippedBy(t, s, SearchRequest{Tenant: owner}); got != nil {
		t.Errorf("skipped %v after the salvage", got)
	}
	checkSalvaged := func(stage string) {
		t.Helper()
		req := SearchRequest{Tenant: owner}
		got := searchAll(t, s, req)
		all := bruteForce(fx.all, req)
		rest := bruteForce(fx.allBut(victim), req)
		if len(got) != len(all)-int(r.RecordsLost) {
			t.Fatalf("%s: %d records, want %d of %d", stage, len(got), len(all)-int(r.RecordsLost), len(all))
		}
		for _, rec := range rest {
			if _, found := slices.BinarySearch(got, rec); !found {
				t.Fatalf("%s: a record of another part is gone: %s", stage, rec)
			}
		}
		for _, rec := range got {
			if _, found := slices.BinarySearch(all, rec); !found {
				t.Fatalf("%s: a record that was never stored: %s", stage, rec)
			}
		}
	}
	checkSalvaged("after the salvage")

	// The entry: signed, removing the damaged part, adding the new one,
	// the loss in its reason.
	data, err := os.ReadFile(fx.dir + "/" + manifestName)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var e manifestEntry
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Op != opSalvage || e.Sig == "" || len(e.Removed) != 1 || e.Removed[0].id() != victim ||
		len(e.Added) != 1 || e.Added[0].id() != r.Output || e.Added[0].Records != r.RecordsKept ||
		!strings.Contains(e.Reason, "lost "+strconv.FormatInt(r.RecordsLost, 10)+" records in 1 block;") {
		t.Fatalf("salvage entry: %+v", e)
	}

	if err := s.DropQuarantined(missing); err != nil {
		t.Fatal(err)
	}
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after the salvage: %v %v", ps, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, fx.dir, opts)
	if reps, err := s.Salvage(ctx); err != nil || len(reps) != 0 {
		t.Fatalf("a second salvage: %+v %v", reps, err)
	}
	checkSalvaged("after a restart")
}

// TestSalvageRestoresGoodCopy: a quarantined part whose file in
// quarantine/ matches the manifest again is served as it is, with no
// manifest entry.
func TestSalvageRestoresGoodCopy(t *testing.T) {
	fx := newCrashFixture(t)
	s := openTest(t, fx.dir, Options{})
	defer func() { _ = s.Close() }()
	victim := fx.partsOfFirst[0]
	good := damageFirstBlock(t, fx.dir, victim)
	skippedBy(t, s, SearchRequest{Tenant: tenantOf(t, victim)})
	if err := os.WriteFile(quarantinedPath(fx.dir, victim), good, 0o644); err != nil {
		t.Fatal(err)
	}
	seq := s.man.state.seq
	reps, err := s.Salvage(context.Background())
	if err != nil || len(reps) != 1 || !reps[0].Restored || reps[0].Part != victim {
		t.Fatalf("salvage: %+v %v", reps, err)
	}
	if s.man.state.seq != seq {
		t.Errorf("a restore wrote manifest entries %d..%d", seq+1, s.man.state.seq)
	}
	countAll(t, s, fx.all)
}

// TestSalvageUnreadableIndex: a part whose meta-index fails its checksum
// has nothing readable; the salvage entry removes it and adds nothing,
// and the store is complete and verified without its records.
func TestSalvageUnreadableIndex(t *testing.T) {
	fx := newCrashFixture(t)
	victim := fx.partsOfFirst[0]
	path := partPathOf(fx.dir, victim)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-footerLen-1] ^= 0x40 // the meta-index's last byte
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, fx.dir, Options{})
	defer func() { _ = s.Close() }()
	records := s.man.state.live[victim].Records
	reps, err := s.Salvage(context.Background())
	if err != nil || len(reps) != 1 {
		t.Fatalf("salvage: %+v %v", reps, err)
	}
	if r := reps[0]; r.Part != victim || r.Output != "" || r.BlocksLost != -1 || r.RecordsLost != records || r.RecordsKept != 0 ||
		!strings.Contains(r.String(), "no part written (nothing was readable); lost "+strconv.FormatInt(records, 10)+" records in all blocks") {
		t.Fatalf("salvage of a part without a readable index: %s", r)
	}
	if _, live := s.man.state.live[victim]; live || len(s.Quarantined()) != 0 {
		t.Fatalf("the part is still live (%v) or quarantined (%v)", live, s.Quarantined())
	}
	countAll(t, s, fx.allBut(victim))
	if ps, err := s.Verify(); err != nil || len(ps) != 0 {
		t.Fatalf("verify after the salvage: %v %v", ps, err)
	}
}

// TestSalvageDamagedChunk: a part of several index chunks whose first
// chunk fails its checksum loses that chunk's blocks and keeps the rest.
func TestSalvageDamagedChunk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{BlockRecords: 2}
	s := openTest(t, dir, opts)
	recs := genRecords(rand.New(rand.NewPCG(3, 4)), 300, 0)
	s.Append(recs, 1)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var victim *part
	for _, ps := range s.parts {
		for _, p := range ps {
			if victim == nil || p.records > victim.records {
				victim = p
			}
		}
	}
	mi, err := victim.metaIndex()
	if err != nil || len(mi.chunks) < 2 {
		t.Fatalf("part %s: %v chunks, %v", victim.ref().id(), mi, err)
	}
	first := mi.chunks[0]
	id, records := victim.ref().id(), victim.records
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := partPathOf(dir, id)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[first.offset+1] ^= 0x40
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, opts)
	defer func() { _ = s.Close() }()
	reps, err := s.Salvage(ctx)
	if err != nil || len(reps) != 1 {
		t.Fatalf("salvage: %+v %v", reps, err)
	}
	r := reps[0]
	t.Log(r)
	if r.Part != id || r.BlocksLost != first.blocks || r.RecordsLost != first.records || r.RecordsKept != records-first.records ||
		r.Output == "" || !strings.Contains(r.Errors[0], "chunk") {
		t.Fatalf("salvage of a part with a damaged chunk (%d blocks, %d records): %s", first.blocks, first.records, r)
	}
	req := SearchRequest{Tenant: tenantOf(t, id)}
	if got, all := len(searchAll(t, s, req)), len(bruteForce(recs, req)); got != all-int(first.records) {
		t.Fatalf("%d records after the salvage, want %d of %d", got, all-int(first.records), all)
	}
}
