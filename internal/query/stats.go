package query

import (
	"errors"
	"sort"
	"strings"
)

// StatsFunc is one aggregate of the stats pipe, such as count() or
// avg(latency_ms). Each lives in its own stats_<name>.go file and registers
// itself with registerStatsFunc.
type StatsFunc interface {
	// String is the canonical call, also the default column name.
	String() string
	// newState returns an empty accumulator for one group.
	newState() statsState
	// fields names the fields the function reads of each row.
	fields() []string
}

// countAdder is a statsState that can take n rows at once which differ
// only in what it does not read: what the store's bulk counts
// (store.SearchRequest.Count) give. A stats pipe whose every function's
// state is one lets the store count blocks from their metadata, without
// reading them, when the functions read only stream labels.
type countAdder interface {
	// addCount takes n rows like r and returns the bytes the state grew by.
	addCount(r Row, n int) int
}

// statsState accumulates one group's rows.
type statsState interface {
	// add takes one row and returns the bytes the state grew by, for the
	// aggregation's memory bound.
	add(r Row) int
	result() Value // Name is set by the caller
	// appendPartial appends the state in the form mergePartial reads:
	// what an indexer sends a querier for one group (partial.go).
	appendPartial(dst []byte) []byte
	// mergePartial adds to the state one that appendPartial encoded in
	// src (all of src), so that the result is what one state given the
	// rows of both would answer. It returns the bytes the state grew by
	// and refuses, before allocating, to grow by more than budget. On
	// error the state is unchanged.
	mergePartial(src []byte, budget int64) (int, error)
}

// errPartialBudget is mergePartial's answer when a state would grow past
// its budget; the caller names the limit.
var errPartialBudget = errors.New("query: merging partial answers needs more than the query memory limit")

// statsFuncParser builds a function from its arguments (field names).
type statsFuncParser func(args []string) (StatsFunc, error)

// statsRegistry maps function names to their constructors. It is filled by
// init functions of the stats_*.go files and read only afterwards.
var statsRegistry = map[string]statsFuncParser{}

func registerStatsFunc(name string, parse statsFuncParser) {
	if _, dup := statsRegistry[name]; dup {
		panic("query: stats function " + name + " registered twice")
	}
	statsRegistry[name] = parse
}

func statsFuncNames() string {
	names := make([]string, 0, len(statsRegistry))
	for n := range statsRegistry {
		names = append(names, n+"()")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// oneField is the argument check of the functions that take one field.
func oneField(fn string, args []string) (string, error) {
	if len(args) != 1 {
		return "", argError(fn + " takes one field, as in " + fn + "(latency_ms)")
	}
	return args[0], nil
}

// argError is a constructor's complaint; the parser adds the position.
type argError string

func (e argError) Error() string { return string(e) }

// mapEntryOverhead approximates what a Go map spends per entry beyond the
// key's bytes, for memory estimates.
const mapEntryOverhead = 48

// spanSetter is a state whose result depends on the time span its group
// covers (rate): the length of the _time bucket, or of the query's range.
// Zero means neither is known.
type spanSetter interface {
	setSpan(seconds float64)
}
