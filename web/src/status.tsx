import { useEffect, useState } from 'preact/hooks';
import { status as fetchStatus, type IndexerStatus, type Status, type TenantStatus } from './api';
import { fmtBytes, fmtCount, fmtNum } from './state';

// The status page: is ingest flowing, is the buffer filling, how much disk
// is used. It polls /api/v1/status every two seconds.

export function StatusPage() {
  const [st, setSt] = useState<Status | null>(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    const ac = new AbortController();
    let timer = 0;
    const poll = async () => {
      try {
        setSt(await fetchStatus(ac.signal));
        setErr('');
      } catch (e: any) {
        if (ac.signal.aborted) return;
        setErr(e.message || String(e));
      }
      timer = window.setTimeout(poll, 2000);
    };
    poll();
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, []);

  if (!st) return <main class="status-page">{err ? <div class="banner error">{err}</div> : <div class="sb-empty shimmer">Loading status…</div>}</main>;
  if (st.querier) return <QuerierStatus st={st} indexers={st.querier} err={err} />;
  const p = st.pipeline;
  if (!p) {
    // A key without role admin: its tenants' figures, nothing of the server's.
    return (
      <main class="status-page">
        {err && <div class="banner error">Status unavailable: {err}</div>}
        <div class="muted">Sluice {st.version} · the figures of your tenants (the server's own need an admin key)</div>
        <Tenants tenants={st.tenants} />
      </main>
    );
  }
  const rate = st.receivers.reduce((s, r) => s + r.records_per_sec, 0);
  const fill = Math.min(1, st.wal_fill);
  const health = !p.ready ? 'down' : st.backpressure || fill > 0.8 ? 'warn' : 'ok';
  return (
    <main class="status-page">
      <Health
        err={err}
        health={health}
        title={health === 'ok' ? (rate > 0 ? 'Healthy — logs are flowing' : 'Healthy — ready, no logs arriving right now') : health === 'warn' ? (st.backpressure ? 'Backpressure: clients are being asked to slow down' : 'The write-ahead buffer is filling') : 'Not ready'}
        sub={`Sluice ${st.version} · up ${fmtDuration(st.uptime_seconds)} · ${fmtNum(Math.round(rate))} records/s now`}
      />
      <div class="cards">
        <Card title="Ingest rate" value={fmtNum(Math.round(rate)) + ' /s'} sub={`${fmtCount(p.records_ingested, 'record')} since start`} />
        <Card title="Buffer (WAL) fill" value={(100 * fill).toFixed(1) + '%'} sub={`${fmtBytes(p.wal_bytes)} of ${fmtBytes(p.wal_max_bytes)}`} meter={fill} />
        <Card title="Backpressure" value={st.backpressure ? 'Active' : 'Off'} sub={`${fmtCount(p.backpressure_total, 'request')} refused since start`} tone={st.backpressure ? 'warn' : 'ok'} />
        <Card title="Disk used" value={fmtBytes(p.disk_bytes)} sub={`${fmtCount(p.parts, 'part')} in ${fmtCount(p.partitions, 'partition')}`} />
        <Card title="Stored records" value={fmtNum(p.records)} sub={`${fmtNum(p.head_records)} in memory (${fmtBytes(p.head_bytes)})`} />
        <Card
          title="Integrity"
          value={p.quarantined_parts > 0 ? `${fmtCount(p.quarantined_parts, 'part')} quarantined` : 'No damaged parts'}
          sub={
            (p.quarantined_parts > 0 ? 'failed a check; queries over their time ranges are partial until dropped or restored (sluice quarantine list) · ' : 'parts are checked on open and on every read · ') +
            `${fmtCount(p.merges_pending, 'partition')} to merge · index ${fmtBytes(p.index_bytes)} in memory`
          }
          tone={p.quarantined_parts > 0 ? 'warn' : undefined}
        />
        <Card
          title="Retention"
          value={p.retention_ns > 0 ? fmtDuration(p.retention_ns / 1e9) : 'Forever'}
          sub={p.retention_ns > 0 ? `partitions older than ${fmtDuration(p.retention_ns / 1e9)} are deleted` : 'nothing is deleted by age'}
        />
      </div>
      <h2>Receivers</h2>
      <table class="grid-table receivers">
        <thead>
          <tr>
            <th>Protocol</th>
            <th class="num">Records/s</th>
            <th class="num">Bytes/s</th>
            <th class="num">Records</th>
            <th class="num">Rejected</th>
            <th class="num">Bytes</th>
          </tr>
        </thead>
        <tbody>
          {st.receivers.length === 0 && (
            <tr>
              <td colSpan={6} class="muted">
                No records received yet.
              </td>
            </tr>
          )}
          {st.receivers.map((r) => (
            <tr key={r.protocol}>
              <td>
                <span class={'dot small ' + (r.records_per_sec > 0 ? 'live' : 'idle')} />
                {r.protocol}
              </td>
              <td class="num mono">{fmtNum(Math.round(r.records_per_sec))}</td>
              <td class="num mono">{fmtBytes(r.bytes_per_sec)}/s</td>
              <td class="num mono">{fmtNum(r.records_total)}</td>
              <td class={'num mono' + (r.rejected_total > 0 ? ' warn-text' : '')}>{fmtNum(r.rejected_total)}</td>
              <td class="num mono">{fmtBytes(r.bytes_total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {st.tenants.length > 0 && <Tenants tenants={st.tenants} />}
    </main>
  );
}

// QuerierStatus is the status page of a querier, which stores nothing:
// its indexers, their groups (each a full copy), partitions and lag.
function QuerierStatus({ st, indexers, err }: { st: Status; indexers: IndexerStatus[]; err: string }) {
  const count = (s: string) => indexers.filter((ix) => ix.state === s).length;
  const up = count('up');
  const down = count('down');
  const absent = count('absent');
  const groups = new Map<string, IndexerStatus[]>();
  for (const ix of indexers) {
    if (!ix.group) continue;
    groups.set(ix.group, [...(groups.get(ix.group) || []), ix]);
  }
  const lags = indexers.filter((ix) => ix.state === 'up' && ix.group_lag !== undefined).map((ix) => ix.group_lag as number);
  const maxLag = lags.length ? Math.max(...lags) : undefined;
  const health = up === 0 ? 'down' : down > 0 ? 'warn' : 'ok';
  const title =
    health === 'ok'
      ? 'Healthy — every indexer answers'
      : health === 'warn'
        ? `${fmtCount(down, 'indexer')} down — answers come from replicas, or are partial and say what they lack`
        : 'No indexer answers';
  // Order: down first, then up, then absent; by group and URL within.
  const rank = { down: 0, up: 1, absent: 2 } as const;
  const rows = [...indexers].sort((a, b) => rank[a.state] - rank[b.state] || (a.group || '').localeCompare(b.group || '') || a.url.localeCompare(b.url));
  return (
    <main class="status-page">
      <Health err={err} health={health} title={title} sub={`Sluice ${st.version} querier · up ${fmtDuration(st.uptime_seconds)} · one query over ${fmtCount(indexers.length - absent, 'indexer')}`} />
      <div class="cards">
        <Card title="Indexers up" value={`${up} of ${indexers.length - absent}`} sub={`${fmtCount(down, 'down')} · ${fmtCount(absent, 'listed pod')} absent (no such pod)`} tone={down > 0 ? 'warn' : 'ok'} />
        <Card title="Copies" value={fmtCount(groups.size, 'group')} sub={[...groups.entries()].map(([g, m]) => `${g}: ${m.filter((ix) => ix.state === 'up').length}/${m.length} up`).join(' · ') || 'no indexer reached yet'} />
        <Card title="Kafka lag" value={maxLag === undefined ? '—' : fmtNum(maxLag)} sub="records the slowest group has yet to index (from the brokers)" tone={maxLag !== undefined && maxLag > 0 ? 'warn' : undefined} />
      </div>
      <h2>Indexers</h2>
      <table class="grid-table indexers">
        <thead>
          <tr>
            <th>Indexer</th>
            <th>Group</th>
            <th>State</th>
            <th>Partitions (consuming in bold)</th>
            <th class="num">Group lag</th>
            <th>Last poll</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((ix) => (
            <tr key={ix.url} data-state={ix.state}>
              <td class="mono">{ix.url}</td>
              <td>{ix.group || '—'}</td>
              <td title={ix.error || ''}>
                <span class={'dot small state-' + ix.state} />
                {ix.state}
                {ix.state === 'absent' ? (
                  <div class="muted small-text">its name does not resolve: no such pod</div>
                ) : (
                  ix.error && ix.state !== 'up' && <div class="muted small-text">{ix.error}</div>
                )}
              </td>
              <td class="mono">
                {ix.partitions.length === 0
                  ? '—'
                  : ix.partitions.map((p, i) => (
                      <span key={p}>
                        {i > 0 && ', '}
                        {ix.assigned.includes(p) ? <b>{p}</b> : p}
                      </span>
                    ))}
              </td>
              <td class="num mono">{ix.group_lag === undefined ? '—' : fmtNum(ix.group_lag)}</td>
              <td class="muted">{ix.polled && !ix.polled.startsWith('0001') ? new Date(ix.polled).toLocaleTimeString() : 'never'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

// Health is the line atop the page: a coloured dot, what it means, and
// the version and uptime; with the last poll's error above it.
function Health({ err, health, title, sub }: { err: string; health: string; title: string; sub: string }) {
  return (
    <>
      {err && <div class="banner error">Status unavailable: {err}</div>}
      <div class={'health health-' + health} data-health={health}>
        <span class="dot" />
        <div>
          <div class="health-title">{title}</div>
          <div class="muted">{sub}</div>
        </div>
      </div>
    </>
  );
}

const quota = (v: number, fmt: (n: number) => string) => (v > 0 ? fmt(v) : 'no bound');

function Tenants({ tenants }: { tenants: TenantStatus[] }) {
  return (
    <>
      <h2>Tenants</h2>
      <table class="grid-table tenants">
        <thead>
          <tr>
            <th>Tenant</th>
            <th class="num">Records</th>
            <th class="num">Bytes</th>
            <th class="num">Ingest quota</th>
            <th class="num">Refused (ingest)</th>
            <th class="num">Queries running</th>
            <th class="num">Query slots</th>
            <th class="num">Refused (queries)</th>
            <th class="num">Records scanned</th>
          </tr>
        </thead>
        <tbody>
          {tenants.length === 0 && (
            <tr>
              <td colSpan={9} class="muted">
                Nothing ingested or queried since the server started.
              </td>
            </tr>
          )}
          {tenants.map((t) => (
            <tr key={t.tenant}>
              <td>{t.tenant || 'default'}</td>
              <td class="num mono">{fmtNum(t.ingest_records_total)}</td>
              <td class="num mono">{fmtBytes(t.ingest_bytes_total)}</td>
              <td class="num mono">{quota(t.quota_ingest_bytes_per_second, (n) => fmtBytes(n) + '/s')}</td>
              <td class={'num mono' + (t.ingest_refused_total > 0 ? ' warn-text' : '')}>{fmtNum(t.ingest_refused_total)}</td>
              <td class="num mono">{fmtNum(t.queries_running)}</td>
              <td class="num mono">{quota(t.quota_query_max_concurrent, fmtNum)}</td>
              <td class={'num mono' + (t.queries_refused_total > 0 ? ' warn-text' : '')}>{fmtNum(t.queries_refused_total)}</td>
              <td class="num mono">{fmtNum(t.query_scanned_records_total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function Card({ title, value, sub, meter, tone }: { title: string; value: string; sub: string; meter?: number; tone?: string }) {
  return (
    <div class={'card' + (tone ? ' tone-' + tone : '')}>
      <div class="card-title">{title}</div>
      <div class="card-value">{value}</div>
      {meter !== undefined && (
        <div class="meter">
          <span style={{ width: 100 * meter + '%' }} class={meter > 0.8 ? 'hot' : ''} />
        </div>
      )}
      <div class="card-sub">{sub}</div>
    </div>
  );
}

export function fmtDuration(s: number): string {
  if (s < 60) return Math.round(s) + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + Math.round(s % 60) + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  const d = s / 86400;
  return (Number.isInteger(d) ? d : d.toFixed(1)) + 'd';
}
