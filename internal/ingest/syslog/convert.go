package syslog

import (
	"slices"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

// Names of the fields a syslog record carries; structured data parameters
// add sd.<SD-ID>.<PARAM-NAME>.
const (
	FieldPriority     = "priority"
	FieldFacility     = "facility"
	FieldFacilityCode = "facility_code"
	FieldSeverity     = "severity"
	FieldSeverityCode = "severity_code"
	FieldLevel        = "level"
	FieldHostname     = "hostname"
	FieldAppName      = "app_name"
	FieldProcID       = "proc_id"
	FieldMsgID        = "msg_id"
)

// converter turns messages into records; stream holds the configured
// stream field names, sorted, so labels come out in record order.
type converter struct {
	stream []string
	tenant string
	window *ingest.TimeWindow
}

func newConverter(streamFields []string, tenant string, window *ingest.TimeWindow) converter {
	s := slices.Clone(streamFields)
	slices.Sort(s)
	return converter{stream: slices.Compact(s), tenant: tenant, window: window}
}

// parse parses one message that arrived at now into its record. On error it
// also returns the reason label of the rejected-records metric.
func (c converter) parse(b []byte, now time.Time, loc *time.Location) (record.Record, string, error) {
	msg, err := ParseBytes(b, now, loc)
	if err != nil {
		return record.Record{}, reasonInvalid, err
	}
	r := c.record(&msg, now)
	if err := c.window.Check(&r, now); err != nil {
		return record.Record{}, ingest.RejectReason(err), err
	}
	return r, "", nil
}

// record builds the record of m, which arrived at now.
func (c converter) record(m *Message, now time.Time) record.Record {
	r := record.Record{Time: m.Time, Tenant: c.tenant, Message: m.Text}
	if r.Time == 0 {
		r.Time = now.UnixNano()
	}
	fac, sev := m.Facility(), m.Severity()
	r.Fields = make([]record.Field, 0, 10+len(m.SD))
	r.Fields = append(r.Fields,
		record.Field{Name: FieldPriority, Value: priorityCodes[m.Priority]},
		record.Field{Name: FieldFacility, Value: facilityNames[fac]},
		record.Field{Name: FieldFacilityCode, Value: priorityCodes[fac]},
		record.Field{Name: FieldSeverity, Value: severityNames[sev]},
		record.Field{Name: FieldSeverityCode, Value: priorityCodes[sev]},
		record.Field{Name: FieldLevel, Value: levelNames[sev]},
	)
	for _, f := range [...]record.Field{
		{Name: FieldHostname, Value: m.Hostname},
		{Name: FieldAppName, Value: m.AppName},
		{Name: FieldProcID, Value: m.ProcID},
		{Name: FieldMsgID, Value: m.MsgID},
	} {
		if f.Value != "" {
			r.Fields = append(r.Fields, f)
		}
	}
	r.Fields = append(r.Fields, m.SD...)
	if len(c.stream) == 0 {
		return r
	}
	// Move the stream fields out; c.stream is sorted, so the labels are too.
	for _, name := range c.stream {
		if i := slices.IndexFunc(r.Fields, func(f record.Field) bool { return f.Name == name }); i >= 0 {
			r.Stream = append(r.Stream, r.Fields[i])
			r.Fields = slices.Delete(r.Fields, i, i+1)
		}
	}
	return r
}
