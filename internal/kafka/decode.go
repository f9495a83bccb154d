package kafka

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/valyala/fastjson"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

var errRecord = errors.New("bad sluice record")

// Decoder turns consumed messages into records. It reuses buffers and is
// not safe for concurrent use.
type Decoder struct {
	conv *ingest.Converter
	cfg  ingest.RecordConfig
	p    fastjson.Parser
	// signingKey, when set, must have signed every gateway message's
	// tenant (TenantMACHeader).
	signingKey []byte
}

// NewDecoder returns a decoder that converts messages not written by a
// gateway with cfg (the jsonline field mapping). With signingKey set, a
// gateway's message whose tenant is not signed with it is refused.
func NewDecoder(cfg ingest.RecordConfig, signingKey []byte) *Decoder {
	return &Decoder{conv: ingest.NewConverter(cfg), cfg: cfg, signingKey: signingKey}
}

// errTenant is a gateway message whose tenant cannot be trusted.
var errTenant = errors.New("untrusted tenant")

// Decode returns the record a message holds. A gateway's message is rebuilt
// exactly; any other JSON object is converted like a jsonline line, with
// the message's timestamp as the time when it names none.
func (d *Decoder) Decode(m *kgo.Record) (record.Record, error) {
	if max := d.cfg.MaxLineBytes; max > 0 && len(m.Value) > max {
		return record.Record{}, fmt.Errorf("%w: message of %d bytes is larger than max_line_bytes (%d)", ingest.ErrLineTooLong, len(m.Value), max)
	}
	var gateway, haveTenant bool
	var t string
	var mac []byte
	for _, h := range m.Headers {
		switch h.Key {
		case FormatHeader:
			gateway = string(h.Value) == FormatRecord
		case TenantHeader:
			t, haveTenant = string(h.Value), true
		case TenantMACHeader:
			mac = h.Value
		}
	}
	if gateway {
		if err := d.checkTenant(t, haveTenant, mac, m.Value); err != nil {
			return record.Record{}, err
		}
		r, err := d.decodeRecord(m.Value)
		r.Tenant = t
		return r, err
	}
	ts := m.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	return d.conv.Convert(m.Value, ts, "", nil)
}

// checkTenant accepts a gateway message's tenant: present, a valid name
// (or the audit trail's), and signed when the decoder has a key.
func (d *Decoder) checkTenant(t string, have bool, mac, value []byte) error {
	if !have {
		return fmt.Errorf("%w: a gateway message without the %s header", errTenant, TenantHeader)
	}
	if t != tenant.Audit {
		if err := tenant.Check(t); err != nil {
			return fmt.Errorf("%w: %w", errTenant, err)
		}
	}
	if len(d.signingKey) > 0 && !hmac.Equal(mac, tenantMAC(d.signingKey, t, value)) {
		return fmt.Errorf("%w: %s does not match kafka.tenant_signing_key (a message not written by a gateway of this cluster)", errTenant, TenantMACHeader)
	}
	return nil
}

// decodeRecord parses record.AppendJSON's shape; the tenant is the
// header's (Decode), a _tenant member is ignored.
func (d *Decoder) decodeRecord(js []byte) (record.Record, error) {
	v, err := d.p.ParseBytes(js)
	if err != nil {
		return record.Record{}, fmt.Errorf("%w: %w: %s", errRecord, ingest.ErrBadJSON, err)
	}
	o, err := v.Object()
	if err != nil {
		return record.Record{}, fmt.Errorf("%w: %w: got %s", errRecord, ingest.ErrNotObject, v.Type())
	}
	var r record.Record
	var haveTime, haveStream bool
	var firstErr error
	o.Visit(func(k []byte, v *fastjson.Value) {
		if firstErr != nil {
			return
		}
		var val string
		if s, err := v.StringBytes(); err == nil {
			val = validUTF8(s)
		} else {
			val = validUTF8(v.MarshalTo(nil))
		}
		switch string(k) {
		case record.TimeField:
			t, ok := ingest.ParseTime(val)
			if !ok {
				firstErr = fmt.Errorf("%w: _time %q is not a time", errRecord, limit(val))
				return
			}
			r.Time, haveTime = t, true
		case record.MessageField:
			r.Message = val
		case record.TenantField:
			// Never the tenant: TenantHeader is.
		case record.StreamField:
			labels, err := parseStream(val)
			if err != nil {
				firstErr = fmt.Errorf("%w: %w", errRecord, err)
				return
			}
			r.Stream, haveStream = labels, true
		default:
			if len(k) == 0 {
				firstErr = fmt.Errorf("%w: %w: empty field name", errRecord, ingest.ErrFieldName)
				return
			}
			r.Fields = append(r.Fields, record.Field{Name: validUTF8(k), Value: val})
		}
	})
	if firstErr != nil {
		return record.Record{}, firstErr
	}
	if !haveTime || !haveStream {
		return record.Record{}, fmt.Errorf("%w: _time and _stream are required", errRecord)
	}
	record.SortStream(r.Stream)
	// AppendJSON writes each label both in _stream and as a field of its
	// own; the label wins, so the field copy is dropped.
	if len(r.Stream) > 0 {
		kept := r.Fields[:0]
		for _, f := range r.Fields {
			if !isLabel(r.Stream, f.Name) {
				kept = append(kept, f)
			}
		}
		r.Fields = kept
	}
	if len(r.Fields) == 0 {
		r.Fields = nil
	}
	if max := d.cfg.MaxFieldsPerRecord; max > 0 && len(r.Fields)+len(r.Stream) > max {
		return record.Record{}, fmt.Errorf("%w: more than %d", ingest.ErrTooManyFields, max)
	}
	return r, nil
}

func isLabel(labels []record.Field, name string) bool {
	for _, l := range labels {
		if l.Name == name {
			return true
		}
	}
	return false
}

func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
