package store

// Options tunes a Store. Zero values take the defaults.
type Options struct {
	// BlockRecords is the most records one block holds; default 8192.
	BlockRecords int
	// MaxPartsPerPartition is the part count of a daily partition above
	// which Merge merges its smallest parts; default 8.
	MaxPartsPerPartition int
	// ZstdLevel is the zstd compression level of blocks; default 1.
	ZstdLevel int
}

const (
	defaultBlockRecords         = 8192
	defaultMaxPartsPerPartition = 8
	defaultZstdLevel            = 1
	// maxBlockRawBytes cuts a block early when its records are large, which
	// bounds the memory one block read needs.
	maxBlockRawBytes = 4 << 20
	// maxMergeFanIn bounds how many parts one merge reads at once.
	maxMergeFanIn = 16
)

func (o Options) withDefaults() Options {
	if o.BlockRecords <= 0 {
		o.BlockRecords = defaultBlockRecords
	}
	if o.MaxPartsPerPartition <= 0 {
		o.MaxPartsPerPartition = defaultMaxPartsPerPartition
	}
	if o.ZstdLevel <= 0 {
		o.ZstdLevel = defaultZstdLevel
	}
	return o
}
