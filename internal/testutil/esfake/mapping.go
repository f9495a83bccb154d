package esfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// mapping is an index's field types by dotted path ("object" for
// objects), grown by dynamic mapping as documents arrive.
type mapping struct {
	types           map[string]string
	dynamic         []dynTemplate
	dateDetection   bool
	ignoreMalformed bool
}

type dynTemplate struct {
	matchType string // match_mapping_type: string, long, double, boolean, date, object or *
	match     string // glob on the field's last name; "" matches all
	typ       string // the mapping's type ("" keeps the detected default)
}

// newMapping starts an index's mapping from its template (nil: none).
// Date detection is on unless the template turns it off, as in both
// clusters. dynamic_date_formats are taken to be strict_date_optional_time
// whatever they say (the only format Sluice's templates name).
func newMapping(t *Template) *mapping {
	m := &mapping{types: map[string]string{}, dateDetection: true}
	if t == nil {
		return m
	}
	if v, ok := t.Template.Settings["index.mapping.ignore_malformed"]; ok {
		m.ignoreMalformed = v == true || v == "true"
	}
	mp := t.Template.Mappings
	if v, ok := mp["date_detection"].(bool); ok {
		m.dateDetection = v
	}
	if props, ok := mp["properties"].(map[string]any); ok {
		m.addProperties("", props)
	}
	if dts, ok := mp["dynamic_templates"].([]any); ok {
		for _, dt := range dts {
			named, _ := dt.(map[string]any)
			for _, v := range named {
				spec, _ := v.(map[string]any)
				d := dynTemplate{}
				d.matchType, _ = spec["match_mapping_type"].(string)
				d.match, _ = spec["match"].(string)
				if mm, ok := spec["mapping"].(map[string]any); ok {
					d.typ, _ = mm["type"].(string)
				}
				m.dynamic = append(m.dynamic, d)
			}
		}
	}
	return m
}

func (m *mapping) addProperties(prefix string, props map[string]any) {
	for name, v := range props {
		spec, _ := v.(map[string]any)
		path := prefix + name
		if sub, ok := spec["properties"].(map[string]any); ok {
			m.types[path] = "object"
			m.addProperties(path+".", sub)
			continue
		}
		typ, _ := spec["type"].(string)
		m.types[path] = typ
	}
}

// parseError is a document refused while mapping it: the error type,
// reason and cause of a 400 bulk item.
type parseError struct {
	typ, reason string
	cause       map[string]any
}

// index maps a document's fields, adding what dynamic mapping adds. On a
// refusal nothing of the document's new mapping is kept.
func (m *mapping) index(src map[string]any, id string) (string, string, map[string]any) {
	added := map[string]string{}
	if pe := m.walk("", src, id, added); pe != nil {
		return pe.typ, pe.reason, pe.cause
	}
	maps.Copy(m.types, added)
	return "", "", nil
}

func (m *mapping) typeOf(path string, added map[string]string) string {
	if t, ok := added[path]; ok {
		return t
	}
	return m.types[path]
}

func (m *mapping) walk(prefix string, obj map[string]any, id string, added map[string]string) *parseError {
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		// Dots in a name are object boundaries, as the clusters expand them.
		path := prefix + key
		comps := strings.Split(path, ".")
		for i := 1; i < len(comps); i++ {
			parent := strings.Join(comps[:i], ".")
			switch t := m.typeOf(parent, added); t {
			case "", "object":
				added[parent] = "object"
			default:
				return &parseError{typ: "document_parsing_exception", reason: fmt.Sprintf(
					"[1:2] Could not dynamically add mapping for field [%s]. Existing mapping for [%s] must be of type object but found [%s].", path, parent, t)}
			}
		}
		if pe := m.value(path, obj[key], id, added); pe != nil {
			return pe
		}
	}
	return nil
}

func (m *mapping) value(path string, v any, id string, added map[string]string) *parseError {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		for _, e := range x {
			if pe := m.value(path, e, id, added); pe != nil {
				return pe
			}
		}
		return nil
	case map[string]any:
		switch t := m.typeOf(path, added); t {
		case "", "object":
			added[path] = "object"
		default:
			return &parseError{typ: "document_parsing_exception", reason: fmt.Sprintf(
				"[1:2] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%v'", path, t, id, x),
				cause: map[string]any{"type": "illegal_state_exception", "reason": "Can't get text on a START_OBJECT at 1:2"}}
		}
		return m.walk(path+".", x, id, added)
	}
	typ := m.typeOf(path, added)
	if typ == "object" {
		last := path[strings.LastIndexByte(path, '.')+1:]
		return &parseError{typ: "document_parsing_exception", reason: fmt.Sprintf(
			"[1:2] object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", path, last)}
	}
	if typ == "" {
		typ = m.dynamicType(path, v)
		added[path] = typ
	}
	return m.check(path, typ, v, id)
}

// dynamicType is the type dynamic mapping gives a new field holding v.
func (m *mapping) dynamicType(path string, v any) string {
	var detected, def string
	switch x := v.(type) {
	case bool:
		detected, def = "boolean", "boolean"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			detected, def = "double", "float"
		} else {
			detected, def = "long", "long"
		}
	case string:
		if m.dateDetection && isDate(x) {
			detected, def = "date", "date"
		} else {
			detected, def = "string", "text"
		}
	}
	last := path[strings.LastIndexByte(path, '.')+1:]
	for _, d := range m.dynamic {
		if (d.matchType == "" || d.matchType == "*" || d.matchType == detected) && (d.match == "" || globMatch(d.match, last)) {
			if d.typ != "" {
				return d.typ
			}
			return def
		}
	}
	return def
}

// check refuses v for a field of type typ the way the clusters do:
// malformed values are dropped from the index under ignore_malformed
// (kept in _source), except for booleans, which do not support it.
func (m *mapping) check(path, typ string, v any, id string) *parseError {
	ok := true
	switch typ {
	case "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float":
		switch x := v.(type) {
		case json.Number:
		case string:
			_, err := strconv.ParseFloat(x, 64)
			ok = err == nil
		default:
			ok = false
		}
	case "date", "date_nanos":
		switch x := v.(type) {
		case json.Number:
		case string:
			ok = isDate(x)
		default:
			ok = false
		}
	case "ip":
		s, isStr := v.(string)
		ok = isStr && net.ParseIP(s) != nil
	case "boolean":
		s := fmt.Sprint(v)
		if s != "true" && s != "false" && s != "" {
			return &parseError{typ: "document_parsing_exception", reason: fmt.Sprintf(
				"[1:2] failed to parse field [%s] of type [boolean] in document with id '%s'. Preview of field's value: '%s'", path, id, s),
				cause: map[string]any{"type": "illegal_argument_exception", "reason": "Failed to parse value [" + s + "] as only [true] or [false] are allowed."}}
		}
	}
	if ok || m.ignoreMalformed {
		return nil
	}
	s := fmt.Sprint(v)
	return &parseError{typ: "document_parsing_exception", reason: fmt.Sprintf(
		"[1:2] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%s'", path, typ, id, s),
		cause: map[string]any{"type": "illegal_argument_exception", "reason": "For input string: \"" + s + "\""}}
}

// isDate reports whether s is a strict_date_optional_time: yyyy-MM-dd,
// optionally followed by T and a time with optional seconds, fraction and
// zone.
func isDate(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
