package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// statusPath is Sluice's status endpoint; pipeline.merges_pending counts the daily
// partitions whose parts it will still merge: a merge running, one due now,
// or an idle partition's final merge, counted before its idle wait
// (store.idle_merge_after) has passed. pipeline.head_records counts the
// records not flushed into parts yet.
const statusPath = "/api/v1/status"

// waitMerges waits until a Sluice server reports no merge pending and
// nothing left in its head, so that disk and queries are measured on the
// store as it will stay, the way the settle wait lets VictoriaLogs finish
// its merges. The store's own account is the signal, not a quiet spell of
// the data dir: merges_pending counts every partition whose parts the
// policy would still merge once it is idle, so the wait ends only when
// each partition has its final layout (the parts it keeps, each larger
// than all smaller ones together, or one). An idle partition's final
// merge comes once the server has received nothing for its flush
// interval (5 s after the last write, then at the timer's next flush) or
// store.idle_merge_after (30 s) after its last flush, and they run one at
// a time per merge lane after the ingest's own merges, so the data dir
// can stay still for seconds between two merges that are still to come.
// It gives up after timeout.
func waitMerges(ctx context.Context, c *client, poll, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st, err := storeStatus(ctx, c)
		if err != nil {
			return err
		}
		if st.MergesPending == 0 && st.HeadRecords == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d partitions still waiting for a merge, %d records not flushed, after %s", st.MergesPending, st.HeadRecords, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// sluiceStatus is what the harness reads of Sluice's /api/v1/status.
type sluiceStatus struct {
	MergesPending int
	HeadRecords   int64
	Parts         int
}

func storeStatus(ctx context.Context, c *client) (sluiceStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+statusPath, nil)
	if err != nil {
		return sluiceStatus{}, err
	}
	r, err := c.http.Do(req)
	if err != nil {
		return sluiceStatus{}, fmt.Errorf("get %s: %w", statusPath, err)
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != http.StatusOK {
		return sluiceStatus{}, fmt.Errorf("get %s: status %d: %s (%v)", statusPath, r.StatusCode, snippet(data), err)
	}
	var st struct {
		Pipeline struct {
			MergesPending *int  `json:"merges_pending"`
			HeadRecords   int64 `json:"head_records"`
			Parts         int   `json:"parts"`
		} `json:"pipeline"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Pipeline.MergesPending == nil {
		return sluiceStatus{}, fmt.Errorf("get %s: no pipeline.merges_pending in %s (%v)", statusPath, snippet(data), err)
	}
	return sluiceStatus{MergesPending: *st.Pipeline.MergesPending, HeadRecords: st.Pipeline.HeadRecords, Parts: st.Pipeline.Parts}, nil
}

// unsettled says how the store's status st after the idle queries differs
// from the settled store's parts; "" when it does not.
func unsettled(settledParts int, st sluiceStatus) string {
	if st.Parts == settledParts && st.MergesPending == 0 && st.HeadRecords == 0 {
		return ""
	}
	return fmt.Sprintf("%d parts after the queries (%d when settled), %d partitions with a merge pending, %d records not flushed",
		st.Parts, settledParts, st.MergesPending, st.HeadRecords)
}
