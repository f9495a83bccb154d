package ingest

import "errors"

// Errors that reject one record. They are wrapped with the details (field
// name, value, limit), and RejectReason maps them to a metrics label.
var (
	ErrNotObject     = errors.New("not a JSON object")
	ErrBadJSON       = errors.New("invalid JSON")
	ErrBadTime       = errors.New("invalid time")
	ErrTooManyFields = errors.New("too many fields")
	ErrFieldName     = errors.New("invalid field name")
	ErrLineTooLong   = errors.New("line too long")
	// ErrTooOld and ErrTooFarInFuture reject a record whose time is outside
	// the accepted window (see TimeWindow).
	ErrTooOld         = errors.New("time older than the retention")
	ErrTooFarInFuture = errors.New("time too far in the future")
	// ErrTooManyStreams and ErrTooManyFieldNames reject a record that
	// would take its tenant past a cardinality bound (see Cardinality).
	ErrTooManyStreams    = errors.New("too many streams")
	ErrTooManyFieldNames = errors.New("too many field names")
)

// RejectReason returns the reason label of the rejected-records metric for
// an error returned by the conversion or line reading.
func RejectReason(err error) string {
	switch {
	case errors.Is(err, ErrBadJSON):
		return "invalid_json"
	case errors.Is(err, ErrNotObject):
		return "not_object"
	case errors.Is(err, ErrBadTime):
		return "invalid_time"
	case errors.Is(err, ErrTooManyFields):
		return "too_many_fields"
	case errors.Is(err, ErrFieldName):
		return "invalid_field_name"
	case errors.Is(err, ErrLineTooLong):
		return "line_too_long"
	case errors.Is(err, ErrTooOld):
		return "too_old"
	case errors.Is(err, ErrTooFarInFuture):
		return "too_far_in_future"
	case errors.Is(err, ErrTooManyStreams):
		return "too_many_streams"
	case errors.Is(err, ErrTooManyFieldNames):
		return "too_many_field_names"
	default:
		return "invalid"
	}
}
