package dashboard

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewStore(dir)
	d := Dashboard{Name: "Payments", From: "now-1h", To: "now", Panels: []Panel{{Query: "* | stats count() by level", Chart: "bar"}}}

	a, err := s.Create(ctx, "acme", d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, "acme", d)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "payments" || b.ID != "payments-2" {
		t.Fatalf("ids %q %q, want payments, payments-2", a.ID, b.ID)
	}
	got, err := s.Get(ctx, "acme", "payments")
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, a)
	}
	// Tenants do not see each other's dashboards.
	if _, err := s.Get(ctx, "beta", "payments"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("beta reads acme's dashboard: %v", err)
	}
	if l, err := s.List(ctx, ""); err != nil || len(l) != 0 {
		t.Fatalf("default tenant lists %v, %v", l, err)
	}

	d.Name = "Alpha"
	put, created, err := s.Put(ctx, "acme", "payments-2", d)
	if err != nil || created || put.ID != "payments-2" {
		t.Fatalf("Put replace = %+v, %v, %v", put, created, err)
	}
	if _, created, err := s.Put(ctx, "", "mine", d); err != nil || !created {
		t.Fatalf("Put create = %v, %v", created, err)
	}
	l, err := s.List(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0].Name != "Alpha" || l[1].ID != "payments" || l[0].Panels != 1 {
		t.Fatalf("List = %+v", l)
	}

	if err := s.Delete(ctx, "acme", "payments"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "acme", "payments"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	for _, id := range []string{"../acme/payments-2", "_x", ""} {
		if _, err := s.Get(ctx, "acme", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if _, _, err := s.Put(ctx, "acme", "../x", d); !errors.Is(err, ErrInvalid) {
		t.Errorf("Put ../x = %v", err)
	}
	// Nothing but the dashboards is left in the folders (no temporary files).
	var files []string
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, _ error) error {
		if !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if want := []string{"_default/mine.json", "acme/payments-2.json"}; !reflect.DeepEqual(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	// A new store over the same folder reads them back.
	if got, err := NewStore(dir).Get(ctx, "acme", "payments-2"); err != nil || got.Name != "Alpha" {
		t.Fatalf("reopened: %+v, %v", got, err)
	}
}

func TestStoreLimit(t *testing.T) {
	ctx := context.Background()
	s := NewStore(t.TempDir())
	s.MaxPerTenant = 2
	d := Dashboard{Name: "x"}
	for i := 0; i < 2; i++ {
		if _, err := s.Create(ctx, "t", d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Create(ctx, "t", d); !errors.Is(err, ErrFull) {
		t.Fatalf("third create: %v", err)
	}
	if _, _, err := s.Put(ctx, "t", "new", d); !errors.Is(err, ErrFull) {
		t.Fatalf("put beyond the limit: %v", err)
	}
	if _, _, err := s.Put(ctx, "t", "x", d); err != nil {
		t.Fatalf("replacing stays allowed: %v", err)
	}
	if _, err := s.Create(ctx, "other", d); err != nil {
		t.Fatalf("the limit is per tenant: %v", err)
	}
}
