// Package querier is the querier role: one query over every store indexer.
//
// It polls each indexer's /api/v1/status for its Kafka consumer group and
// partitions (assigned now, and held in its store, with the offset ranges
// held), and for every query picks one healthy, fresh copy of every
// offset (plan.go): a whole consumer group when one is complete, fresh,
// healthy and holds no offset twice, else, partition by partition, the
// first group that is up for it, each indexer then restricted to the
// partitions it is asked for (records carry kafka.topic and
// kafka.partition) and, where two members of the group hold the same
// offsets (a batch consumed again after a crash before its commit), to
// its share of the offsets (kafka.offset). It sends each indexer its share
// of the query (POST /internal/v1/partial), and merges the partial
// answers with the query package's Merge. An indexer that fails a request
// is marked down and the query planned again without it; what no copy can
// answer makes the answer partial, naming the indexers it lacks. An
// indexer whose host name does not resolve and that was never reached is
// absent (a pod that does not exist) and left out. Live tail (tail.go)
// moves a partition's tail to a replica when its indexer's stream ends.
//
// It must not know the store's layout or the query language's internals:
// it speaks HTTP to indexers and hands their bytes to the query package.
package querier
