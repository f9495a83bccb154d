package process

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// TenantField names a record's tenant in test cases and in the output of
// `sluice pipeline test`, as query results name it.
const TenantField = record.TenantField

// Names a step may read and write like a field: the message, a stream label
// or an ordinary field. _time is set only by the timestamp processor,
// _tenant only by route, and _stream is derived from the labels.
func checkWritable(name string) error {
	switch name {
	case "":
		return fmt.Errorf("empty field name")
	case record.TimeField:
		return fmt.Errorf("%s is set by the timestamp processor", name)
	case TenantField:
		return fmt.Errorf("%s is set by the route processor", name)
	case record.StreamField:
		return fmt.Errorf("%s is made of the stream labels; set a label instead (the stream processor makes fields labels)", name)
	}
	return nil
}

// setField sets name to value: the message for _msg, the stream label of
// that name if there is one, else a field (added at the end when new).
// Names are checked when the step is built (checkWritable); a reserved
// name arriving from parsed input is skipped and reported.
func setField(r *record.Record, name, value string) bool {
	switch name {
	case record.MessageField:
		r.Message = value
		return true
	case record.TimeField, record.StreamField, TenantField, "":
		return false
	}
	for i := range r.Stream {
		if r.Stream[i].Name == name {
			r.Stream[i].Value = value
			return true
		}
	}
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			r.Fields[i].Value = value
			return true
		}
	}
	r.Fields = append(r.Fields, record.Field{Name: name, Value: value})
	return true
}

// setLabel makes name a stream label with value, removing a field of that
// name; labels stay sorted.
func setLabel(r *record.Record, name, value string) {
	deleteFrom(&r.Fields, name)
	i, found := slices.BinarySearchFunc(r.Stream, name, func(f record.Field, n string) int { return strings.Compare(f.Name, n) })
	if found {
		r.Stream[i].Value = value
		return
	}
	r.Stream = slices.Insert(r.Stream, i, record.Field{Name: name, Value: value})
}

// deleteField removes name (the message becomes empty) and reports
// whether it was there.
func deleteField(r *record.Record, name string) bool {
	if name == record.MessageField {
		had := r.Message != ""
		r.Message = ""
		return had
	}
	return deleteFrom(&r.Stream, name) || deleteFrom(&r.Fields, name)
}

func deleteFrom(fs *[]record.Field, name string) bool {
	for i := range *fs {
		if (*fs)[i].Name == name {
			*fs = slices.Delete(*fs, i, i+1)
			return true
		}
	}
	return false
}

// prefixed joins a prefix and a name with a dot ("" prefix: the name).
func prefixed(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
