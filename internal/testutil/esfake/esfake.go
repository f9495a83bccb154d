package esfake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Flavour says which cluster the server answers as.
type Flavour int

const (
	Elasticsearch Flavour = iota
	OpenSearch
)

// Template is a stored composable index template.
type Template struct {
	IndexPatterns []string       `json:"index_patterns"`
	Priority      int            `json:"priority"`
	DataStream    map[string]any `json:"data_stream,omitempty"`
	Template      struct {
		Settings map[string]any `json:"settings,omitempty"`
		Mappings map[string]any `json:"mappings,omitempty"`
	} `json:"template"`
	ComposedOf []string       `json:"composed_of,omitempty"`
	Meta       map[string]any `json:"_meta,omitempty"`
}

type policy struct {
	version int
	seqNo   int64
	body    map[string]any // the "policy" object as sent
}

// index is one index: a data stream's backing index or a plain one.
type index struct {
	name    string
	mapping *mapping
	docs    map[string]map[string]any // _id → _source
	order   []string
}

type stream struct {
	name     string
	template string
	indices  []*index // the last is the write index
}

// Server is the fake cluster. Its exported methods are for the test to
// look at what the sink did and to change how the cluster behaves.
type Server struct {
	URL     string
	flavour Flavour

	mu          sync.Mutex
	templates   map[string]*Template
	ilm         map[string]*policy
	ism         map[string]*policy
	streams     map[string]*stream
	indices     map[string]*index
	requests    []string
	forbidden   bool // bulk items answered 403 (no index privileges)
	unauthentic bool // every request answered 401
	itemHook    func(id string, attempt int) int
	bulkFails   int // whole bulk requests still to answer with bulkStatus
	bulkStatus  int
	attempts    map[string]int
	seqNo       int64
}

// New starts a server of the flavour; it stops when the test ends.
// Elasticsearch comes with its built-in logs template (logs-*-*,
// priority 100), as a fresh cluster has it.
func New(t testing.TB, f Flavour) *Server {
	s := &Server{flavour: f, templates: map[string]*Template{}, ilm: map[string]*policy{}, ism: map[string]*policy{},
		streams: map[string]*stream{}, indices: map[string]*index{}, attempts: map[string]int{}}
	if f == Elasticsearch {
		s.templates["logs"] = &Template{IndexPatterns: []string{"logs-*-*"}, Priority: 100, DataStream: map[string]any{},
			ComposedOf: []string{"logs@mappings", "logs@settings", "logs@custom", "ecs@mappings"},
			Meta:       map[string]any{"managed": true, "description": "default logs template installed by x-pack"}}
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetForbidden makes every bulk item fail with 403 security_exception, as
// Elasticsearch answers a user without write privileges on the index
// (the request itself is 200).
func (s *Server) SetForbidden(v bool) { s.mu.Lock(); s.forbidden = v; s.mu.Unlock() }

// SetUnauthenticated makes every request fail with 401, as a cluster does
// for missing or wrong credentials.
func (s *Server) SetUnauthenticated(v bool) { s.mu.Lock(); s.unauthentic = v; s.mu.Unlock() }

// SetItemHook decides bulk items' statuses before any other processing:
// hook(id, attempt) returning 0 lets the item be processed as usual;
// 429 and 5xx are answered with the cluster's errors for them.
func (s *Server) SetItemHook(hook func(id string, attempt int) int) {
	s.mu.Lock()
	s.itemHook = hook
	s.mu.Unlock()
}

// FailBulk answers the next n bulk requests as a whole with status (503:
// unavailable_shards_exception, 429: es_rejected_execution_exception,
// other: an exception of that status).
func (s *Server) FailBulk(n, status int) {
	s.mu.Lock()
	s.bulkFails, s.bulkStatus = n, status
	s.mu.Unlock()
}

// Requests returns "METHOD path" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Attempts returns how often each _id was sent.
func (s *Server) Attempts(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[id]
}

// Streams returns the data streams' names, sorted.
func (s *Server) Streams() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.streams {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Docs returns the _source of every document in a data stream or index,
// in the order indexed, with its _id under "_id".
func (s *Server) Docs(name string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, ix := range s.indicesOf(name) {
		for _, id := range ix.order {
			d := map[string]any{"_id": id}
			for k, v := range ix.docs[id] {
				d[k] = v
			}
			out = append(out, d)
		}
	}
	return out
}

// FieldType returns the mapped type of a dotted field in a stream's write
// index ("" if unmapped).
func (s *Server) FieldType(name, field string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ixs := s.indicesOf(name)
	if len(ixs) == 0 {
		return ""
	}
	return ixs[len(ixs)-1].mapping.types[field]
}

// Template returns a stored index template.
func (s *Server) Template(name string) (Template, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.templates[name]
	if !ok {
		return Template{}, false
	}
	return *t, true
}

// TemplateFor returns the template a new data stream or index of that name
// would be created with: the highest-priority one whose pattern matches.
func (s *Server) TemplateFor(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, _ := s.templateFor(name)
	return n
}

// Policy returns a lifecycle policy as sent (ILM on Elasticsearch, ISM on
// OpenSearch) and how many times it was written.
func (s *Server) Policy(name string) (map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.ilm
	if s.flavour == OpenSearch {
		ps = s.ism
	}
	if p, ok := ps[name]; ok {
		return p.body, p.version
	}
	return nil, 0
}

// Rollover starts a new write index of a data stream, whose mapping starts
// again from the stream's template, as POST /<stream>/_rollover does.
func (s *Server) Rollover(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.streams[name]; st != nil {
		s.rollover(st)
	}
}

func (s *Server) indicesOf(name string) []*index {
	if st := s.streams[name]; st != nil {
		return st.indices
	}
	if ix := s.indices[name]; ix != nil {
		return []*index{ix}
	}
	return nil
}

func (s *Server) templateFor(name string) (string, *Template) {
	best, bestName := (*Template)(nil), ""
	for n, t := range s.templates {
		for _, p := range t.IndexPatterns {
			if globMatch(p, name) && (best == nil || t.Priority > best.Priority) {
				best, bestName = t, n
			}
		}
	}
	return bestName, best
}

func (s *Server) rollover(st *stream) *index {
	gen := len(st.indices) + 1
	var name string
	if s.flavour == OpenSearch {
		name = fmt.Sprintf(".ds-%s-%06d", st.name, gen)
	} else {
		name = fmt.Sprintf(".ds-%s-%s-%06d", st.name, time.Now().UTC().Format("2006.01.02"), gen)
	}
	ix := &index{name: name, mapping: newMapping(s.templates[st.template]), docs: map[string]map[string]any{}}
	st.indices = append(st.indices, ix)
	return ix
}

// createStream makes a data stream from its matching template, or says
// why not (as the error type and reason of a 400).
func (s *Server) createStream(name string) (*stream, string, string) {
	tn, t := s.templateFor(name)
	if t == nil || t.DataStream == nil {
		return nil, "illegal_argument_exception", "no matching index template found for data stream [" + name + "]"
	}
	if !validIndexName(name) {
		return nil, "invalid_index_name_exception", "Invalid index name [" + name + "], must be lowercase"
	}
	st := &stream{name: name, template: tn}
	s.rollover(st)
	s.streams[name] = st
	return st, "", ""
}

func validIndexName(n string) bool {
	return n != "" && strings.ToLower(n) == n && !strings.ContainsAny(n, `\/*?"<>| ,#:`) && !strings.ContainsAny(n[:1], "-_+")
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	if s.flavour == Elasticsearch {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	w.Header().Set("Content-Type", "application/json")
	if s.unauthentic {
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8"`)
		writeError(w, http.StatusUnauthorized, "security_exception", "missing authentication credentials for REST request ["+r.URL.Path+"]")
		return
	}
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	switch {
	case path == "" && r.Method == http.MethodGet:
		s.info(w)
	case path == "_bulk" || len(parts) == 2 && parts[1] == "_bulk":
		if s.bulkFails > 0 {
			s.bulkFails--
			switch s.bulkStatus {
			case http.StatusServiceUnavailable:
				writeError(w, s.bulkStatus, "unavailable_shards_exception", "primary shard is not active")
			case http.StatusTooManyRequests:
				writeError(w, s.bulkStatus, "es_rejected_execution_exception", "rejected execution of coordinating operation")
			default:
				writeError(w, s.bulkStatus, "exception", "status "+strconv.Itoa(s.bulkStatus))
			}
			return
		}
		def := ""
		if len(parts) == 2 {
			def = parts[0]
		}
		s.bulk(w, body, def)
	case len(parts) == 2 && parts[0] == "_index_template":
		s.indexTemplate(w, r.Method, parts[1], body)
	case len(parts) == 2 && parts[0] == "_data_stream" && r.Method == http.MethodPut:
		if _, ok := s.streams[parts[1]]; ok {
			writeError(w, http.StatusBadRequest, "resource_already_exists_exception", "data_stream ["+parts[1]+"] already exists")
			return
		}
		if _, typ, reason := s.createStream(parts[1]); typ != "" {
			writeError(w, http.StatusBadRequest, typ, reason)
			return
		}
		io.WriteString(w, `{"acknowledged":true}`)
	case len(parts) == 2 && parts[1] == "_rollover" && r.Method == http.MethodPost:
		st := s.streams[parts[0]]
		if st == nil {
			writeError(w, http.StatusNotFound, "index_not_found_exception", "no such index ["+parts[0]+"]")
			return
		}
		old := st.indices[len(st.indices)-1].name
		ix := s.rollover(st)
		fmt.Fprintf(w, `{"acknowledged":true,"shards_acknowledged":true,"old_index":%q,"new_index":%q,"rolled_over":true,"dry_run":false,"conditions":{}}`, old, ix.name)
	case s.flavour == Elasticsearch && len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy":
		s.ilmPolicy(w, r.Method, parts[2], body)
	case s.flavour == OpenSearch && len(parts) == 4 && parts[0] == "_plugins" && parts[1] == "_ism" && parts[2] == "policies":
		s.ismPolicy(w, r, parts[3], body)
	default:
		// What both answer for a route they do not have.
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"no handler found for uri [%s] and method [%s]"}`, r.URL.Path, r.Method)
	}
}

func (s *Server) info(w http.ResponseWriter) {
	if s.flavour == OpenSearch {
		io.WriteString(w, `{"name":"esfake","cluster_name":"esfake","version":{"distribution":"opensearch","number":"2.17.0","minimum_wire_compatibility_version":"7.10.0"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`)
		return
	}
	io.WriteString(w, `{"name":"esfake","cluster_name":"esfake","version":{"number":"8.15.0","build_flavor":"default","minimum_wire_compatibility_version":"7.17.0"},"tagline":"You Know, for Search"}`)
}

// writeError writes the error body both clusters use.
func writeError(w http.ResponseWriter, status int, typ, reason string) {
	w.WriteHeader(status)
	e := map[string]any{"type": typ, "reason": reason}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"root_cause": []any{e}, "type": typ, "reason": reason}, "status": status})
	w.Write(b)
}

func (s *Server) indexTemplate(w http.ResponseWriter, method, name string, body []byte) {
	switch method {
	case http.MethodPut, http.MethodPost:
		var t Template
		if err := json.Unmarshal(body, &t); err != nil || len(t.IndexPatterns) == 0 {
			writeError(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
			return
		}
		// Composable templates whose patterns overlap must differ in
		// priority (Elasticsearch and OpenSearch refuse the PUT).
		for on, o := range s.templates {
			if on == name || o.Priority != t.Priority {
				continue
			}
			for _, p := range t.IndexPatterns {
				for _, op := range o.IndexPatterns {
					if globsIntersect(p, op) {
						writeError(w, http.StatusBadRequest, "illegal_argument_exception", fmt.Sprintf(
							"index template [%s] has index patterns %v matching patterns from existing templates [%s] with patterns (%s => %v) that have the same priority [%d], multiple index templates may not match during index creation, please use a different priority",
							name, t.IndexPatterns, on, on, o.IndexPatterns, t.Priority))
						return
					}
				}
			}
		}
		s.templates[name] = &t
		io.WriteString(w, `{"acknowledged":true}`)
	case http.MethodGet:
		t, ok := s.templates[name]
		if !ok {
			writeError(w, http.StatusNotFound, "resource_not_found_exception", "index template matching ["+name+"] not found")
			return
		}
		b, _ := json.Marshal(map[string]any{"index_templates": []any{map[string]any{"name": name, "index_template": t}}})
		w.Write(b)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (s *Server) ilmPolicy(w http.ResponseWriter, method, name string, body []byte) {
	switch method {
	case http.MethodGet:
		p, ok := s.ilm[name]
		if !ok {
			writeError(w, http.StatusNotFound, "resource_not_found_exception", "Lifecycle policy not found: "+name)
			return
		}
		b, _ := json.Marshal(map[string]any{name: map[string]any{"version": p.version, "modified_date": "2026-01-01T00:00:00.000Z", "policy": p.body,
			"in_use_by": map[string]any{"indices": []string{}, "data_streams": []string{}, "composable_templates": []string{}}}})
		w.Write(b)
	case http.MethodPut:
		var req struct {
			Policy map[string]any `json:"policy"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Policy == nil {
			writeError(w, http.StatusBadRequest, "x_content_parse_exception", "[1:1] [put_lifecycle_request] policy is required")
			return
		}
		p := s.ilm[name]
		if p == nil {
			p = &policy{}
			s.ilm[name] = p
		}
		p.version++
		p.body = req.Policy
		io.WriteString(w, `{"acknowledged":true}`)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// ismPolicy answers the ISM policy API: a PUT over an existing policy must
// name the version it replaces (if_seq_no, if_primary_term), else 409.
func (s *Server) ismPolicy(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	p := s.ism[id]
	reply := func(status int, p *policy) {
		pol := map[string]any{"policy_id": id, "schema_version": 21, "last_updated_time": 1767225600000}
		for k, v := range p.body {
			pol[k] = v
		}
		b, _ := json.Marshal(map[string]any{"_id": id, "_version": p.version, "_seq_no": p.seqNo, "_primary_term": 1, "policy": pol})
		w.WriteHeader(status)
		w.Write(b)
	}
	switch r.Method {
	case http.MethodGet:
		if p == nil {
			writeError(w, http.StatusNotFound, "status_exception", "Policy not found")
			return
		}
		reply(http.StatusOK, p)
	case http.MethodPut:
		var req struct {
			Policy map[string]any `json:"policy"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Policy == nil {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "Required [policy]")
			return
		}
		q := r.URL.Query()
		if p != nil {
			if q.Get("if_seq_no") != strconv.FormatInt(p.seqNo, 10) || q.Get("if_primary_term") != "1" {
				writeError(w, http.StatusConflict, "version_conflict_engine_exception",
					fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", id, p.version))
				return
			}
			s.seqNo++
			p.version, p.seqNo, p.body = p.version+1, s.seqNo, req.Policy
			reply(http.StatusOK, p)
			return
		}
		s.seqNo++
		p = &policy{version: 1, seqNo: s.seqNo, body: req.Policy}
		s.ism[id] = p
		reply(http.StatusCreated, p)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// bulk answers _bulk: one result per action, in order, the request itself
// 200 whatever the items' outcomes.
func (s *Server) bulk(w http.ResponseWriter, body []byte, defIndex string) {
	start := time.Now()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 100<<20)
	var items []string
	anyErr := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]")
			return
		}
		if !sc.Scan() {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
			return
		}
		doc := bytes.Clone(sc.Bytes())
		for op, meta := range action {
			name := meta.Index
			if name == "" {
				name = defIndex
			}
			res := s.bulkItem(op, name, meta.ID, doc)
			if st, _ := res["status"].(int); st >= 300 {
				anyErr = true
			}
			b, _ := json.Marshal(map[string]any{op: res})
			items = append(items, string(b))
		}
	}
	fmt.Fprintf(w, `{"took":%d,"errors":%t,"items":[%s]}`, time.Since(start).Milliseconds(), anyErr, strings.Join(items, ","))
}

func itemError(name, id string, status int, typ, reason string, cause map[string]any) map[string]any {
	e := map[string]any{"type": typ, "reason": reason, "index": name}
	if cause != nil {
		e["caused_by"] = cause
	}
	return map[string]any{"_index": name, "_id": id, "status": status, "error": e}
}

func (s *Server) bulkItem(op, name, id string, doc []byte) map[string]any {
	s.attempts[id]++
	if s.itemHook != nil {
		switch st := s.itemHook(id, s.attempts[id]); {
		case st == 0:
		case st == http.StatusTooManyRequests:
			return itemError(name, id, st, "es_rejected_execution_exception", "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1024, max_coordinating_and_primary_bytes=1024]", nil)
		case st >= 500:
			return itemError(name, id, st, "unavailable_shards_exception", "["+name+"][0] primary shard is not active Timeout: [1m]", nil)
		default:
			return itemError(name, id, st, "exception", "status "+strconv.Itoa(st), nil)
		}
	}
	if s.forbidden {
		return itemError(name, id, http.StatusForbidden, "security_exception",
			"action [indices:data/write/bulk[s]] is unauthorized for user [sluice] with effective roles [viewer] on indices ["+name+"], this action is granted by the index privileges [create_doc,create,index,write,all]", nil)
	}
	var ix *index
	if st := s.streams[name]; st != nil {
		if op != "create" {
			return itemError(name, id, http.StatusBadRequest, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams", nil)
		}
		ix = st.indices[len(st.indices)-1]
	} else if ix = s.indices[name]; ix == nil {
		if _, t := s.templateFor(name); t != nil && t.DataStream != nil {
			if op != "create" {
				return itemError(name, id, http.StatusBadRequest, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams", nil)
			}
			st, typ, reason := s.createStream(name)
			if st == nil {
				return itemError(name, id, http.StatusBadRequest, typ, reason, nil)
			}
			ix = st.indices[0]
		} else {
			if !validIndexName(name) {
				return itemError(name, id, http.StatusBadRequest, "invalid_index_name_exception", "Invalid index name ["+name+"], must be lowercase", nil)
			}
			_, t := s.templateFor(name)
			ix = &index{name: name, mapping: newMapping(t), docs: map[string]map[string]any{}}
			s.indices[name] = ix
		}
	}
	// _id is unique per index only: after a rollover the same _id can be
	// created again in the new write index, as in Elasticsearch.
	if _, dup := ix.docs[id]; dup && op == "create" {
		return itemError(ix.name, id, http.StatusConflict, "version_conflict_engine_exception",
			fmt.Sprintf("[%s]: version conflict, document already exists (current version [1])", id), nil)
	}
	var src map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&src); err != nil {
		return itemError(ix.name, id, http.StatusBadRequest, "document_parsing_exception", "[1:1] failed to parse: "+err.Error(),
			map[string]any{"type": "x_content_parse_exception", "reason": err.Error()})
	}
	if typ, reason, cause := ix.mapping.index(src, id); typ != "" {
		return itemError(ix.name, id, http.StatusBadRequest, typ, reason, cause)
	}
	ix.docs[id] = src
	ix.order = append(ix.order, id)
	s.seqNo++
	return map[string]any{"_index": ix.name, "_id": id, "_version": 1, "result": "created",
		"_shards": map[string]any{"total": 2, "successful": 1, "failed": 0}, "_seq_no": s.seqNo, "_primary_term": 1, "status": http.StatusCreated}
}

// globMatch reports whether name matches an index pattern with '*'.
func globMatch(pattern, name string) bool {
	i := strings.IndexByte(pattern, '*')
	if i < 0 {
		return pattern == name
	}
	if !strings.HasPrefix(name, pattern[:i]) {
		return false
	}
	for j := i; j <= len(name); j++ {
		if globMatch(pattern[i+1:], name[j:]) {
			return true
		}
	}
	return false
}

// globsIntersect reports whether some name matches both patterns.
func globsIntersect(a, b string) bool {
	switch {
	case a == "" || b == "":
		return strings.Trim(a, "*") == "" && strings.Trim(b, "*") == ""
	case a[0] == '*':
		return globsIntersect(a[1:], b) || globsIntersect(a, b[1:])
	case b[0] == '*':
		return globsIntersect(a, b[1:]) || globsIntersect(a[1:], b)
	}
	return a[0] == b[0] && globsIntersect(a[1:], b[1:])
}
