package ingest

import (
	"net/url"
	"reflect"
	"testing"
)

func TestWithQuery(t *testing.T) {
	base := RecordConfig{TimeFields: []string{"t"}, MessageFields: []string{"m"}, StreamFields: []string{"s"}, MaxLineBytes: 7}
	tests := []struct {
		query string
		want  RecordConfig
	}{
		{"", base},
		{"_time_field=ts", RecordConfig{TimeFields: []string{"ts"}, MessageFields: []string{"m"}, StreamFields: []string{"s"}, MaxLineBytes: 7}},
		{"_msg_field=a,+b+,,c&_stream_fields=x,y", RecordConfig{TimeFields: []string{"t"}, MessageFields: []string{"a", "b", "c"}, StreamFields: []string{"x", "y"}, MaxLineBytes: 7}},
		{"_stream_fields=", RecordConfig{TimeFields: []string{"t"}, MessageFields: []string{"m"}, MaxLineBytes: 7}},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := base.WithQuery(q); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("WithQuery(%q) = %+v, want %+v", tt.query, got, tt.want)
		}
	}
}
