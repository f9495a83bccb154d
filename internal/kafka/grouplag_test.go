package kafka

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestGroupLag: the lag comes from the broker for every partition of the
// topic, whether the group committed there or not, and whatever any member
// has fetched.
func TestGroupLag(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	// 10 records in partition 0, 4 in partition 1, none in partition 2.
	for p, n := range map[int32]int{0: 10, 1: 4} {
		for range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "logs", Partition: p, Value: []byte("{}")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	adm := kadm.NewClient(cl)

	lag, err := groupLag(ctx, adm, "indexers", "logs")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 10, 1: 4, 2: 0}; !equalLag(lag.Partitions, want) || lag.Total != 14 || lag.Produced != 14 {
		t.Fatalf("before any commit: %+v, want %v, total 14", lag, want)
	}

	// The group committed 7 in partition 0 (next offset to consume).
	offs := make(kadm.Offsets)
	offs.Add(kadm.Offset{Topic: "logs", Partition: 0, At: 7, LeaderEpoch: -1})
	if _, err := adm.CommitOffsets(ctx, "indexers", offs); err != nil {
		t.Fatal(err)
	}
	lag, err = groupLag(ctx, adm, "indexers", "logs")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 3, 1: 4, 2: 0}; !equalLag(lag.Partitions, want) || lag.Total != 7 || lag.Produced != 14 {
		t.Fatalf("after a commit: %+v, want %v, total 7", lag, want)
	}

	if _, err := groupLag(ctx, adm, "indexers", "no-such-topic"); err == nil {
		t.Error("lag of a missing topic: no error")
	}
}

func equalLag(got, want map[int32]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for p, l := range want {
		if got[p] != l {
			return false
		}
	}
	return true
}
