// Package querier is the querier role: one query over every store indexer.
//
// It polls each indexer's /api/v1/status for its Kafka consumer group and
// partitions (assigned now, and held in its store), and for every query
// picks one healthy, fresh copy of every partition (plan.go): a whole
// consumer group when one is complete, fresh and healthy, else, partition
// by partition, the first group whose holders of it are all up, each indexer then
// restricted to the partitions it is asked for (records carry
// kafka.topic and kafka.partition). It sends each indexer its share of
// the query (POST /internal/v1/partial), and merges the partial answers
// with the query package's Merge. An indexer that fails a request is
// marked down and the query planned again without it; what no copy can
// answer makes the answer partial, naming the indexers it lacks.
//
// It must not know the store's layout or the query language's internals:
// it speaks HTTP to indexers and hands their bytes to the query package.
package querier
