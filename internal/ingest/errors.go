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
	default:
		return "invalid"
	}
}
