package query

import (
	"context"
	"testing"

	"github.com/sluice-log/sluice/internal/cpuslot"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

// slotSearcher is a search that gives back the slot it was lent, as the
// store's does while it waits (a part's first checksum) or when a worker
// hands it to another search.
type slotSearcher struct {
	sliceSearcher
	lent *cpuslot.Hold
}

func (s slotSearcher) Search(ctx context.Context, req store.SearchRequest, fn func(*record.Record) error) error {
	if cpuslot.HoldOf(ctx) != s.lent {
		panic("the search is not lent the query's slot")
	}
	s.lent.Release()
	return s.sliceSearcher.Search(ctx, req, fn)
}

// TestExecuteAfterSearchOnSlot: the query's work after the store's search
// (the aggregates' results, sorting, the rows handed to emit) runs on the
// query's CPU slot of high priority, the one it lent the search.
func TestExecuteAfterSearchOnSlot(t *testing.T) {
	pool := cpuslot.New(1)
	cpu := pool.NewHold(cpuslot.High)
	defer cpu.Release()
	for _, s := range []string{"* | stats count() as n by service", "refused | sort by _time", "*"} {
		q, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		rows := 0
		src := slotSearcher{testData(), cpu}
		err = Execute(cpuslot.WithHold(context.Background(), cpu), src, q, Options{}, func(Row) error {
			if rows++; !cpu.Held() {
				t.Errorf("%q: a row is emitted without the query's slot", s)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if rows == 0 {
			t.Errorf("%q: no rows", s)
		}
	}
}
