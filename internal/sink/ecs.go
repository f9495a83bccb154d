package sink

import "strings"

// ecsNames maps common field names of application logs to their Elastic
// Common Schema names, so that Kibana's and OpenSearch Dashboards' log
// views find the level, host, service, trace… where they look for them.
// docs/scale-out.md lists the same table; keep them together.
var ecsNames = map[string]string{
	"level":          "log.level",
	"lvl":            "log.level",
	"severity":       "log.level",
	"log_level":      "log.level",
	"loglevel":       "log.level",
	"logger":         "log.logger",
	"logger_name":    "log.logger",
	"host":           "host.name",
	"hostname":       "host.name",
	"service":        "service.name",
	"service_name":   "service.name",
	"app":            "service.name",
	"env":            "service.environment",
	"environment":    "service.environment",
	"trace_id":       "trace.id",
	"traceid":        "trace.id",
	"traceId":        "trace.id",
	"span_id":        "span.id",
	"spanid":         "span.id",
	"spanId":         "span.id",
	"pid":            "process.pid",
	"thread":         "process.thread.name",
	"container":      "container.name",
	"container_name": "container.name",
	"container_id":   "container.id",
	"method":         "http.request.method",
	"http_method":    "http.request.method",
	"status_code":    "http.response.status_code",
	"http_status":    "http.response.status_code",
	"path":           "url.path",
	"url":            "url.original",
	"client_ip":      "client.ip",
	"remote_addr":    "client.ip",
	"user":           "user.name",
	"username":       "user.name",
	"error":          "error.message",
	"err":            "error.message",
}

// ecsTypes are the mapping types of the ECS fields above that are not
// keywords (every other string becomes a keyword through the dynamic
// templates), and of the fields the sink itself writes.
var ecsTypes = map[string]string{
	"@timestamp":                "date_nanos",
	"message":                   "text",
	"error.message":             "text",
	"process.pid":               "long",
	"http.response.status_code": "long",
	"client.ip":                 "ip",
}

// Fields the sink writes itself. A record field of the same name (or under
// the sluice. namespace) is written as sluice.field.<name> instead.
const (
	docStream = "sluice.stream"
	docTenant = "sluice.tenant"
	docMoved  = "sluice.field."
)

// reservedName reports whether a record field may not keep its name.
func reservedName(name string) bool {
	return name == "@timestamp" || name == "message" || name == "sluice" || strings.HasPrefix(name, "sluice.")
}

// ecsObjects are the objects of the mapping: the parents of the ECS
// names (log, http.response…) and sluice.
var ecsObjects = func() map[string]bool {
	m := map[string]bool{"sluice": true}
	var full []string
	for _, v := range ecsNames {
		full = append(full, v)
	}
	for k := range ecsTypes {
		full = append(full, k)
	}
	for _, f := range full {
		for i := range len(f) {
			if f[i] == '.' {
				m[f[:i]] = true
			}
		}
	}
	return m
}()

// ecsName returns the name a field is written under: its ECS name when it
// has one that the record does not use already; sluice.field.<name> when
// the name is reserved or is an object of the mapping (a scalar "http" or
// "service" would make the document unmappable); its own name otherwise.
func ecsName(name string, used func(string) bool) string {
	if reservedName(name) {
		return docMoved + name
	}
	if target, ok := ecsNames[name]; ok && !used(target) {
		return target
	}
	if ecsObjects[name] {
		return docMoved + name
	}
	return name
}
