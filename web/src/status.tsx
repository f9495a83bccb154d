import { useEffect, useState } from 'preact/hooks';
import { status as fetchStatus, type Status } from './api';
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
  const p = st.pipeline;
  const rate = st.receivers.reduce((s, r) => s + r.records_per_sec, 0);
  const fill = Math.min(1, st.wal_fill);
  const health = !p.ready ? 'down' : st.backpressure || fill > 0.8 ? 'warn' : 'ok';
  return (
    <main class="status-page">
      {err && <div class="banner error">Status unavailable: {err}</div>}
      <div class={'health health-' + health} data-health={health}>
        <span class="dot" />
        <div>
          <div class="health-title">{health === 'ok' ? (rate > 0 ? 'Healthy — logs are flowing' : 'Healthy — ready, no logs arriving right now') : health === 'warn' ? (st.backpressure ? 'Backpressure: clients are being asked to slow down' : 'The write-ahead buffer is filling') : 'Not ready'}</div>
          <div class="muted">
            Sluice {st.version} · up {fmtDuration(st.uptime_seconds)} · {fmtNum(Math.round(rate))} records/s now
          </div>
        </div>
      </div>
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
    </main>
  );
}

function Card({ title, value, sub, meter, tone }: { title: string; value: string; sub: string; meter?: number; tone?: string }) {
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

function fmtDuration(s: number): string {
  if (s < 60) return Math.round(s) + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm ' + Math.round(s % 60) + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  const d = s / 86400;
  return (Number.isInteger(d) ? d : d.toFixed(1)) + 'd';
}
