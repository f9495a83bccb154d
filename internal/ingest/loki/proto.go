package loki

import (
	"errors"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// Field numbers of Loki's logproto messages (pkg/push/push.proto):
//
//	PushRequest      { repeated StreamAdapter streams = 1; }
//	StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
//	EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
//	                   repeated LabelPairAdapter structuredMetadata = 3; }
//	LabelPairAdapter { string name = 1; string value = 2; }
//	Timestamp        { int64 seconds = 1; int32 nanos = 2; }
const (
	fieldPushStreams = 1

	fieldStreamLabels  = 1
	fieldStreamEntries = 2

	fieldEntryTimestamp = 1
	fieldEntryLine      = 2
	fieldEntryMetadata  = 3

	fieldPairName  = 1
	fieldPairValue = 2

	fieldTsSeconds = 1
	fieldTsNanos   = 2
)

// ErrProto is the reason for a protobuf body that does not decode.
var ErrProto = errors.New("invalid protobuf PushRequest")

// DecodeProto decodes an uncompressed protobuf PushRequest into records of
// tenant; entries without a timestamp get now. A body that is not a
// PushRequest is an error; entries that are well-formed but cannot be
// stored (bad labels, reserved names, too many fields, time out of range)
// are rejected one by one in the Push.
func DecodeProto(data []byte, tenant string, now time.Time, maxFields int) (Push, error) {
	b := newBuilder(tenant, now, maxFields)
	if err := decodeProto(data, b); err != nil {
		return Push{}, err
	}
	return b.push, nil
}

func decodeProto(data []byte, b *builder) error {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return fmt.Errorf("%w: PushRequest: %w", ErrProto, protowire.ParseError(n))
		}
		data = data[n:]
		if num == fieldPushStreams {
			msg, n, err := consumeBytes(data, typ, "PushRequest.streams")
			if err != nil {
				return err
			}
			data = data[n:]
			if err := decodeStream(msg, b); err != nil {
				return err
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, data)
		if n < 0 {
			return fmt.Errorf("%w: PushRequest field %d: %w", ErrProto, num, protowire.ParseError(n))
		}
		data = data[n:]
	}
	return nil
}

// consumeBytes reads a length-delimited field's content.
func consumeBytes(data []byte, typ protowire.Type, what string) ([]byte, int, error) {
	if typ != protowire.BytesType {
		return nil, 0, fmt.Errorf("%w: %s has wire type %d, want %d (length-delimited)", ErrProto, what, typ, protowire.BytesType)
	}
	v, n := protowire.ConsumeBytes(data)
	if n < 0 {
		return nil, 0, fmt.Errorf("%w: %s: %w", ErrProto, what, protowire.ParseError(n))
	}
	return v, n, nil
}

func consumeVarint(data []byte, typ protowire.Type, what string) (uint64, int, error) {
	if typ != protowire.VarintType {
		return 0, 0, fmt.Errorf("%w: %s has wire type %d, want %d (varint)", ErrProto, what, typ, protowire.VarintType)
	}
	v, n := protowire.ConsumeVarint(data)
	if n < 0 {
		return 0, 0, fmt.Errorf("%w: %s: %w", ErrProto, what, protowire.ParseError(n))
	}
	return v, n, nil
}

// decodeStream decodes one StreamAdapter. Fields may come in any order, so
// the entries are decoded once the labels are known.
func decodeStream(data []byte, b *builder) error {
	var labels string
	var entries [][]byte
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return fmt.Errorf("%w: StreamAdapter: %w", ErrProto, protowire.ParseError(n))
		}
		data = data[n:]
		switch num {
		case fieldStreamLabels:
			v, n, err := consumeBytes(data, typ, "StreamAdapter.labels")
			if err != nil {
				return err
			}
			labels, data = string(v), data[n:]
		case fieldStreamEntries:
			v, n, err := consumeBytes(data, typ, "StreamAdapter.entries")
			if err != nil {
				return err
			}
			entries, data = append(entries, v), data[n:]
		default: // hash and anything newer
			n = protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return fmt.Errorf("%w: StreamAdapter field %d: %w", ErrProto, num, protowire.ParseError(n))
			}
			data = data[n:]
		}
	}
	b.stream(ParseLabels(labels))
	for _, e := range entries {
		if err := decodeEntry(e, b); err != nil {
			return err
		}
	}
	return nil
}

func decodeEntry(data []byte, b *builder) error {
	var (
		ts    int64
		tsErr error
		line  string
		meta  []record.Field
	)
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return fmt.Errorf("%w: EntryAdapter: %w", ErrProto, protowire.ParseError(n))
		}
		data = data[n:]
		switch num {
		case fieldEntryTimestamp:
			v, n, err := consumeBytes(data, typ, "EntryAdapter.timestamp")
			if err != nil {
				return err
			}
			data = data[n:]
			ts, tsErr, err = decodeTimestamp(v)
			if err != nil {
				return err
			}
		case fieldEntryLine:
			v, n, err := consumeBytes(data, typ, "EntryAdapter.line")
			if err != nil {
				return err
			}
			line, data = string(v), data[n:]
		case fieldEntryMetadata:
			v, n, err := consumeBytes(data, typ, "EntryAdapter.structuredMetadata")
			if err != nil {
				return err
			}
			data = data[n:]
			pair, err := decodePair(v)
			if err != nil {
				return err
			}
			meta = append(meta, pair)
		default:
			n = protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return fmt.Errorf("%w: EntryAdapter field %d: %w", ErrProto, num, protowire.ParseError(n))
			}
			data = data[n:]
		}
	}
	b.entry(ts, line, meta, tsErr)
	return nil
}

// decodeTimestamp decodes a google.protobuf.Timestamp. The second error is
// for a well-formed timestamp out of the record's range (years 1678-2262),
// which rejects only its entry.
func decodeTimestamp(data []byte) (int64, error, error) {
	var secs, nanos int64
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return 0, nil, fmt.Errorf("%w: Timestamp: %w", ErrProto, protowire.ParseError(n))
		}
		data = data[n:]
		switch num {
		case fieldTsSeconds:
			v, n, err := consumeVarint(data, typ, "Timestamp.seconds")
			if err != nil {
				return 0, nil, err
			}
			secs, data = int64(v), data[n:]
		case fieldTsNanos:
			v, n, err := consumeVarint(data, typ, "Timestamp.nanos")
			if err != nil {
				return 0, nil, err
			}
			nanos, data = int64(int32(v)), data[n:]
		default:
			n = protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return 0, nil, fmt.Errorf("%w: Timestamp field %d: %w", ErrProto, num, protowire.ParseError(n))
			}
			data = data[n:]
		}
	}
	if nanos < 0 || nanos > 999_999_999 {
		return 0, fmt.Errorf("%w: timestamp nanos %d outside [0, 999999999]", ingest.ErrBadTime, nanos), nil
	}
	const maxSecs = math.MaxInt64/1_000_000_000 - 1
	if secs > maxSecs || secs < -maxSecs {
		return 0, fmt.Errorf("%w: timestamp seconds %d outside the years 1678-2262", ingest.ErrBadTime, secs), nil
	}
	return secs*1e9 + nanos, nil, nil
}

func decodePair(data []byte) (record.Field, error) {
	var f record.Field
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return f, fmt.Errorf("%w: LabelPairAdapter: %w", ErrProto, protowire.ParseError(n))
		}
		data = data[n:]
		switch num {
		case fieldPairName, fieldPairValue:
			v, n, err := consumeBytes(data, typ, "LabelPairAdapter")
			if err != nil {
				return f, err
			}
			data = data[n:]
			if num == fieldPairName {
				f.Name = string(v)
			} else {
				f.Value = string(v)
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return f, fmt.Errorf("%w: LabelPairAdapter field %d: %w", ErrProto, num, protowire.ParseError(n))
			}
			data = data[n:]
		}
	}
	return f, nil
}
