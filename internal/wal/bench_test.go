package wal

import (
	"context"
	"testing"
)

func BenchmarkAppend100(b *testing.B) {
	recs := testBatch(0, 100)
	size := int64(len(batchBytes(1, recs)))
	for _, tt := range []struct {
		name     string
		parallel bool
	}{{"serial", false}, {"parallel", true}} {
		b.Run(tt.name, func(b *testing.B) {
			l := openLog(b, b.TempDir(), Options{MaxSize: 1 << 40})
			b.SetBytes(size)
			b.ReportAllocs()
			appendOne := func() {
				if _, _, err := l.Append(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
			}
			if tt.parallel {
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						appendOne()
					}
				})
			} else {
				for b.Loop() {
					appendOne()
				}
			}
			st := l.Stats()
			b.ReportMetric(float64(st.Appends)/float64(max(st.Fsyncs, 1)), "appends/fsync")
		})
	}
}
