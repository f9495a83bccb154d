package logql

import "time"

// Expr is a parsed query: a *LogExpr (answered with log lines) or a
// *MetricExpr (answered with samples).
type Expr interface{ isExpr() }

// Matcher is one label matcher of a stream selector or a label filter.
type Matcher struct {
	Name, Op, Value string
}

// LogExpr is a stream selector and its pipeline.
type LogExpr struct {
	Selector []Matcher
	Stages   []Stage
}

// Stage is one step of a log pipeline.
type Stage interface{ isStage() }

// LineFilter is |= "text", != "text", |~ "re" or !~ "re".
type LineFilter struct{ Op, Value string }

// Parser is | json or | logfmt (without arguments).
type Parser struct{ Kind string }

// LabelFilter keeps the lines whose labels pass every comparison (joined by
// "and" or ","). Numeric comparisons (> >= < <= == != with a number) have
// Num set.
type LabelFilter struct{ Conds []LabelCond }

// LabelCond is one comparison of a label filter.
type LabelCond struct {
	Name, Op, Value string
	Num             bool
}

// LineFormat is | line_format "…{{.label}}…": literal text and labels.
type LineFormat struct{ Parts []TemplatePart }

// TemplatePart is literal text, or a label's value when Label is set.
type TemplatePart struct{ Text, Label string }

func (LineFilter) isStage()  {}
func (Parser) isStage()      {}
func (LabelFilter) isStage() {}
func (LineFormat) isStage()  {}

// MetricExpr is a range aggregation (count_over_time, rate,
// bytes_over_time, bytes_rate) over a log query, optionally under one
// vector aggregation (sum, avg, min, max, count, topk) by labels.
type MetricExpr struct {
	Func  string
	Log   *LogExpr
	Range time.Duration
	// Agg is the vector aggregation ("" for none); K is topk's k; By its
	// labels (none: one series).
	Agg string
	K   int
	By  []string
}

// ConstExpr is vector(N), or a sum of them: Grafana's data source checks
// its connection with vector(1)+vector(1).
type ConstExpr struct{ Value float64 }

func (*ConstExpr) isExpr()  {}
func (*LogExpr) isExpr()    {}
func (*MetricExpr) isExpr() {}
