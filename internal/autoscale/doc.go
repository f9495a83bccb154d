// Package autoscale owns Sluice's indexer scaling policy and the simulator
// that scores it. The policy (Sluice) is a function of observations: the
// consumer group's lag, the ingest rate and its trend, and the measured
// throughput of one indexer; the controller (sluice autoscale) and the
// simulator (sluice autoscale simulate) both run this very code, so what
// the simulator's table says is what the controller does.
//
// Beside it the package models KEDA's Kafka scaler under the HPA's default
// behaviour (KEDA) and a hindsight Oracle, replays load traces through a
// model of a consumer group (per-replica throughput, pod start delay,
// rebalance pause) and scores each policy.
//
// It must not know Kafka's or Kubernetes' clients: the controller in
// cmd/sluice feeds it Samples and applies its decisions.
package autoscale
