package otlp

import (
	"encoding/json"
	"math"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}
func intv(i int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: i}}
}
func dbl(f float64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
}
func boolv(b bool) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: b}}
}
func bytesv(b []byte) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: b}}
}
func arr(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
}
func kvl(kvs ...*commonpb.KeyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}}
}
func kv(k string, v *commonpb.AnyValue) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: v}
}

func TestAppendText(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    *commonpb.AnyValue
		want string
		ok   bool
	}{
		{"string kept raw", str(`a "b" <c>`), `a "b" <c>`, true},
		{"empty value", &commonpb.AnyValue{}, "", false},
		{"nil", nil, "", false},
		{"int", intv(-42), "-42", true},
		{"double", dbl(1.5), "1.5", true},
		{"NaN", dbl(math.NaN()), `"NaN"`, true},
		{"+Inf", dbl(math.Inf(1)), `"+Inf"`, true},
		{"bool", boolv(true), "true", true},
		{"bytes base64", bytesv([]byte{0, 1, 0xff}), `"AAH/"`, true},
		{"array", arr(str("x\n\"y\""), intv(1), &commonpb.AnyValue{}), `["x\n\"y\"",1,null]`, true},
		{"kvlist", kvl(kv("a", str("<&>")), kv("b", arr())), `{"a":"<&>","b":[]}`, true},
		{"control and invalid utf8", arr(str("\x01\xff")), `["\u0001\ufffd"]`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := appendText(nil, tc.v)
			if string(got) != tc.want || ok != tc.ok {
				t.Fatalf("got %q %v, want %q %v", got, ok, tc.want, tc.ok)
			}
			if ok && tc.v.GetStringValue() == "" && !json.Valid(got) {
				t.Fatalf("%q is not valid JSON", got)
			}
		})
	}
}
