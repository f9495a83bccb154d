// The HTTP API the UI calls (docs/api.md). Every call takes an AbortSignal so
// that a new search, or the cancel button, stops the old one on the server.

export type Row = Record<string, string>;

export interface FieldStat {
  Name: string;
  Count: number;
  Top: { Value: string; Count: number }[] | null;
}

/** What an answer could not read (a quarantined part, an indexer that did not answer): docs/api.md. */
export interface PartialAnswer {
  reason: string;
  skipped: { kind: string; name: string; partition?: string; error: string }[];
}

/** Both partial answers' skipped sources in one, or null when neither is partial. */
export function mergePartial(a: PartialAnswer | null | undefined, b: PartialAnswer | null | undefined): PartialAnswer | null {
  if (!a) return b ?? null;
  if (!b) return a;
  const key = (s: PartialAnswer['skipped'][number]) => `${s.kind} ${s.partition ?? ''}/${s.name}`;
  const seen = new Set(a.skipped.map(key));
  const skipped = a.skipped.concat(b.skipped.filter((s) => !seen.has(key(s))));
  if (skipped.length === a.skipped.length) return a;
  // The server's wording (internal/api/partial.go) for the union.
  const n = (kind: string) => skipped.filter((s) => (s.kind === 'indexer') === (kind === 'indexer')).length;
  const plural = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  const what: string[] = [];
  if (n('part')) what.push(plural(n('part'), 'part') + ' in the time range could not be read (quarantined)');
  if (n('indexer')) what.push(plural(n('indexer'), 'indexer') + ' did not answer');
  return { reason: what.join('; ') + ': the answer lacks their records', skipped }; // at least 2 skipped
}

/** A query error with the position the parser reported, when it did. */
export class QueryError extends Error {
  line = 0;
  col = 0;
  constructor(message: string) {
    super(message);
    const m = /(?:^|: )(\d+):(\d+): /.exec(message);
    if (m) {
      this.line = Number(m[1]);
      this.col = Number(m[2]);
    }
  }
}

/**
 * The signed-in key and the chosen tenant, kept in this tab's session
 * storage: never a cookie, so that another site's page cannot make the
 * browser send the key, and gone when the tab closes.
 */
export const session = {
  get key(): string {
    return sessionStorage.getItem('sluice.key') || '';
  },
  get tenant(): string {
    return sessionStorage.getItem('sluice.tenant') || '';
  },
  signIn(key: string) {
    sessionStorage.setItem('sluice.key', key);
  },
  setTenant(t: string) {
    if (t) sessionStorage.setItem('sluice.tenant', t);
    else sessionStorage.removeItem('sluice.tenant');
  },
  signOut() {
    sessionStorage.removeItem('sluice.key');
    sessionStorage.removeItem('sluice.tenant');
  },
};

/** fetch with the session's key and tenant; a 401 tells the shell to ask for a key again. */
function call(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (session.key) headers.set('Authorization', 'Bearer ' + session.key);
  if (session.tenant) headers.set('X-Scope-OrgID', session.tenant);
  return fetch(url, { ...init, headers }).then((res) => {
    if (res.status === 401) window.dispatchEvent(new Event('sluice-unauthorized'));
    return res;
  });
}

/** Who the key is: GET /api/v1/whoami. */
export interface Whoami {
  auth: boolean;
  name?: string;
  tenants: string[];
  roles: string[];
}

/** The caller, or null when the server wants a key and has none (or a bad one). */
export async function whoami(): Promise<Whoami | null> {
  const res = await call('/api/v1/whoami');
  if (res.status === 401) return null;
  if (!res.ok) await fail(res);
  return res.json();
}

function form(params: Record<string, string | number | undefined>): URLSearchParams {
  const f = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') f.set(k, String(v));
  return f;
}

async function fail(res: Response): Promise<never> {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && typeof body.error === 'string') msg = body.error;
  } catch {
    /* not JSON: keep the status line */
  }
  throw new QueryError(msg);
}

/** Reads an NDJSON body line by line as it arrives. */
async function readLines(res: Response, onLine: (obj: any) => void): Promise<void> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onLine(JSON.parse(line));
    }
  }
  if (buf.trim()) onLine(JSON.parse(buf));
}

export interface Range {
  from: string;
  to: string;
}

/**
 * POST /api/v1/query, streaming rows to onRow; resolves when done, with
 * what the answer lacks when it is partial (its last line, `_partial`).
 */
export async function query(q: string, r: Range, limit: number, signal: AbortSignal, onRow: (row: Row) => void): Promise<PartialAnswer | null> {
  const res = await call('/api/v1/query', { method: 'POST', body: form({ query: q, from: r.from, to: r.to, limit: limit || undefined }), signal });
  if (!res.ok) await fail(res);
  let partial: PartialAnswer | null = null;
  await readLines(res, (obj) => {
    if (obj && typeof obj.error === 'string' && Object.keys(obj).length === 1) throw new QueryError(obj.error);
    if (obj && obj._partial && Object.keys(obj).length === 1) {
      partial = obj._partial;
      return;
    }
    onRow(obj);
  });
  return partial;
}

/** Runs a stats query and returns all its rows. */
export async function stats(q: string, r: Range, signal: AbortSignal): Promise<{ rows: Row[]; partial: PartialAnswer | null }> {
  const rows: Row[] = [];
  const partial = await query(q, r, 0, signal, (row) => rows.push(row));
  return { rows, partial };
}

export async function fieldNames(q: string, r: Range, top: number, signal: AbortSignal): Promise<{ fields: FieldStat[]; partial?: PartialAnswer }> {
  const res = await call('/api/v1/field_names', { method: 'POST', body: form({ query: q, from: r.from, to: r.to, top }), signal });
  if (!res.ok) await fail(res);
  return res.json();
}

/** GET /api/v1/tail as NDJSON; calls onRow for every new matching record. */
export async function tail(q: string, signal: AbortSignal, onRow: (row: Row) => void): Promise<void> {
  const res = await call('/api/v1/tail?' + form({ query: q }), { signal, headers: { Accept: 'application/x-ndjson' } });
  if (!res.ok) await fail(res);
  await readLines(res, onRow);
}

export interface Surroundings {
  /** Up to N records of the stream older than the hit, oldest first. */
  before: Row[];
  /** The stream's records at the hit's exact time: the hit and its twins. */
  at: Row[];
  /** Up to N records of the stream newer than the hit, oldest first. */
  after: Row[];
  /** Set when parts of the stream's range could not be read. */
  partial?: PartialAnswer;
}

/** POST /api/v1/context: the n records before and after a hit in its stream. */
export async function surroundings(hit: Row, n: number, signal: AbortSignal): Promise<Surroundings> {
  const res = await call('/api/v1/context', { method: 'POST', body: form({ _stream: hit._stream, _time: hit._time, before: n, after: n }), signal });
  if (!res.ok) await fail(res);
  return res.json();
}

export interface ReceiverStatus {
  protocol: string;
  records_total: number;
  rejected_total: number;
  bytes_total: number;
  records_per_sec: number;
  bytes_per_sec: number;
}

/** One store indexer as a querier sees it (a querier's /api/v1/status). */
export interface IndexerStatus {
  url: string;
  up: boolean;
  /** up; down: resolves but did not answer; absent: its name does not resolve (no such pod). */
  state: 'up' | 'down' | 'absent';
  group?: string;
  partitions: string[];
  assigned: string[];
  group_lag?: number;
  error?: string;
  polled: string;
}

/** One tenant's figures and quotas in /api/v1/status. */
export interface TenantStatus {
  tenant: string;
  ingest_bytes_total: number;
  ingest_records_total: number;
  quota_ingest_bytes_per_second: number;
  ingest_refused_total: number;
  queries_running: number;
  quota_query_max_concurrent: number;
  queries_refused_total: number;
  query_scanned_records_total: number;
}

/** A key without role admin sees its tenants' figures only: the rest is absent. */
export interface Status {
  version: string;
  time: string;
  tenants: TenantStatus[];
  uptime_seconds: number;
  wal_fill: number;
  backpressure: boolean;
  backpressure_per_sec: number;
  receivers: ReceiverStatus[];
  pipeline?: {
    ready: boolean;
    wal_bytes: number;
    wal_max_bytes: number;
    backpressure_total: number;
    head_bytes: number;
    head_records: number;
    parts: number;
    partitions: number;
    disk_bytes: number;
    records: number;
    records_ingested: number;
    retention_ns: number;
    quarantined_parts: number;
    merges_pending: number;
    index_bytes: number;
  };
  /** Set on a querier: its indexers. */
  querier?: IndexerStatus[];
}

export async function status(signal: AbortSignal): Promise<Status> {
  const res = await call('/api/v1/status', { signal });
  if (!res.ok) await fail(res);
  return res.json();
}

/** A dashboard panel: a query drawn as a chart over the dashboard's time range (docs/api.md#dashboards). */
export interface Panel {
  title: string;
  query: string;
  chart: 'line' | 'stacked' | 'bar' | 'table';
  /** Twelfths of the grid's row; 0 or absent is 6. */
  width?: number;
}

export interface Dashboard {
  id: string;
  name: string;
  from: string;
  to: string;
  refresh?: string;
  panels: Panel[];
  updated?: string;
}

export interface DashboardSummary {
  id: string;
  name: string;
  panels: number;
  updated: string;
}

async function jsonCall<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await call(url, init);
  if (!res.ok) await fail(res);
  return res.status === 204 ? (undefined as T) : res.json();
}

export const dashboards = {
  list: (signal?: AbortSignal) => jsonCall<{ dashboards: DashboardSummary[] }>('/api/v1/dashboards', { signal }).then((x) => x.dashboards),
  get: (id: string, signal?: AbortSignal) => jsonCall<Dashboard>('/api/v1/dashboards/' + encodeURIComponent(id), { signal }),
  /** Creates a dashboard (an id is made from its name); a JSON export imports this way. */
  create: (d: Partial<Dashboard> | string) => jsonCall<Dashboard>('/api/v1/dashboards', { method: 'POST', body: typeof d === 'string' ? d : JSON.stringify(d), headers: { 'Content-Type': 'application/json' } }),
  save: (d: Dashboard) => {
    const { id, updated: _, ...body } = d;
    return jsonCall<Dashboard>('/api/v1/dashboards/' + encodeURIComponent(id), { method: 'PUT', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  },
  remove: (id: string) => jsonCall<void>('/api/v1/dashboards/' + encodeURIComponent(id), { method: 'DELETE' }),
};

/** One alert as GET /api/v1/alerts answers it (docs/api.md). */
export interface AlertInfo {
  fingerprint: string;
  source: string;
  kind: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  active_at: string;
  fired_at?: string;
  silenced_by?: string;
}

export interface SilenceInfo {
  id: string;
  matchers: { name: string; value: string; isRegex?: boolean; isEqual?: boolean }[];
  startsAt: string;
  endsAt: string;
  createdBy?: string;
  comment?: string;
}

/** A flow's key: open (waiting for its end), or a violation (ran out of time; end set when it came late). */
export interface FlowKey {
  key: string;
  start: string;
  fired: boolean;
  end?: string;
}

export interface FlowInfo {
  name: string;
  start: string;
  end: string;
  key: string;
  within: string;
  within_s: number;
  open: number;
  tracked: number;
  max_open_keys: number;
  completed: number;
  violating: number;
  dropped: number;
  latency_s?: Record<string, number>;
  /** Completions in tenths of within (le in seconds); the last bucket counts late ends. */
  latency_histogram?: { le: number; count: number }[];
  open_keys?: FlowKey[];
  violations?: FlowKey[];
  checked?: string;
}

export interface RuleInfo {
  name: string;
  query: string;
  condition: string;
  every: string;
  window: string;
  for: string;
  labels?: Record<string, string>;
  notify?: string[];
  /** Made through the API (POST /api/v1/rules): it can be deleted there. */
  runtime?: boolean;
  last_eval?: string;
  last_error?: string;
  firing: number;
  pending: number;
}

/** A rule to make (POST /api/v1/rules): durations as text, "5m". */
export interface RuleSpec {
  name: string;
  query: string;
  every: string;
  window: string;
  condition: string;
  for: string;
  labels: Record<string, string>;
  notify: string[];
}

export interface AlertsOverview {
  rules: RuleInfo[];
  flows: FlowInfo[];
  alerts: AlertInfo[];
  silences: SilenceInfo[];
  notifiers: { name: string; type: string; sent: number; failed: number; last_error?: string }[];
  history: { time: string; source: string; labels: Record<string, string>; from: string; to: string }[];
}

/** Alerts, flows and silences of the session's tenant (internal/alert). */
export const alerts = {
  overview: (signal?: AbortSignal) => jsonCall<AlertsOverview>('/api/v1/alerts', { signal }),
  flows: (signal?: AbortSignal) => jsonCall<{ flows: FlowInfo[] }>('/api/v1/flows', { signal }).then((x) => x.flows),
  silence: (s: Partial<SilenceInfo>) => jsonCall<SilenceInfo>('/api/v1/silences', { method: 'POST', body: JSON.stringify(s), headers: { 'Content-Type': 'application/json' } }),
  expire: (id: string) => jsonCall<void>('/api/v1/silences/' + encodeURIComponent(id), { method: 'DELETE' }),
  createRule: (r: RuleSpec) => jsonCall<RuleInfo>('/api/v1/rules', { method: 'POST', body: JSON.stringify(r), headers: { 'Content-Type': 'application/json' } }),
  deleteRule: (name: string) => jsonCall<void>('/api/v1/rules/' + encodeURIComponent(name), { method: 'DELETE' }),
};

/** A saved search: a named query and time range, shared within the tenant (docs/api.md). */
export interface SavedSearch {
  id: string;
  name: string;
  query: string;
  from: string;
  to: string;
  created?: string;
}

export const savedSearches = {
  list: (signal?: AbortSignal) => jsonCall<{ saved_searches: SavedSearch[] }>('/api/v1/saved_searches', { signal }).then((x) => x.saved_searches),
  create: (s: Omit<SavedSearch, 'id'>) => jsonCall<SavedSearch>('/api/v1/saved_searches', { method: 'POST', body: JSON.stringify(s), headers: { 'Content-Type': 'application/json' } }),
  remove: (id: string) => jsonCall<void>('/api/v1/saved_searches/' + encodeURIComponent(id), { method: 'DELETE' }),
};
