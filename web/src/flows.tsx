import { alerts, type FlowInfo, type FlowKey } from './api';
import { quote, quoteField } from './lang';
import { usePoll } from './poll';
import { fmtNum, fmtTime, navigate, useTimeZone } from './state';
import { Card, fmtDuration } from './status';

// The flows page (/ui/flows): per flow of the tenant, its open keys (the
// oldest with their age), completions and their latency, and the keys that
// ran out of time, each with a link to its records in Discover. It reads
// GET /api/v1/flows every 5 s.

/** A latency in seconds, short: 850 ms, 12.3 s, 4m 10s. */
function fmtLatency(s: number): string {
  if (s < 1) return Math.round(s * 1000) + ' ms';
  if (s < 60) return (s < 10 ? s.toFixed(2) : s.toFixed(1)) + ' s';
  return fmtDuration(s);
}

/** Discover over one key's records, from a minute before its start to a minute after its end (or now). */
function discoverURL(f: FlowInfo, k: FlowKey): string {
  const p = new URLSearchParams({ q: `${quoteField(f.key)}:${quote(k.key)}`, from: new Date(Date.parse(k.start) - 60e3).toISOString() });
  p.set('to', k.end ? new Date(Date.parse(k.end) + 60e3).toISOString() : 'now');
  return '/?' + p;
}

function KeyLink({ f, k }: { f: FlowInfo; k: FlowKey }) {
  const url = discoverURL(f, k);
  return (
    <a
      href={url}
      class="mono"
      title={`Show the records of ${f.key}=${k.key} in Discover`}
      onClick={(e) => {
        e.preventDefault();
        navigate(url);
      }}
    >
      {k.key}
    </a>
  );
}

/** Completions per tenth of within, and the late ones, as bars. */
function LatencyBars({ f }: { f: FlowInfo }) {
  const h = f.latency_histogram || [];
  const top = Math.max(1, ...h.map((b) => b.count));
  const W = 22;
  const H = 60;
  const GAP = 14; // between the bars in time and the late one
  const x = (i: number) => i * W + (i === h.length - 1 ? GAP : 0);
  const width = h.length * W + GAP;
  return (
    <svg class="flow-histo" viewBox={`0 0 ${width} ${H + 16}`} role="img" aria-label={`Latency histogram of ${f.name}`}>
      {h.map((b, i) => {
        const late = i === h.length - 1;
        const bh = b.count ? Math.max(2, (H * b.count) / top) : 0;
        const label = late ? `over ${fmtLatency(f.within_s)}: ${b.count}` : `${fmtLatency(i ? h[i - 1].le : 0)}–${fmtLatency(b.le)}: ${b.count}`;
        return (
          <g key={i} data-count={b.count}>
            <title>{label}</title>
            <rect x={x(i) + 2} y={H - bh} width={W - 4} height={bh} class={late ? 'late' : ''} />
            <rect x={x(i)} y={0} width={W} height={H} fill="transparent" />
          </g>
        );
      })}
      <line x1="0" x2={width} y1={H + 0.5} y2={H + 0.5} class="axis" />
      <text x="0" y={H + 13}>
        0
      </text>
      <text x={(h.length - 1) * W} y={H + 13} text-anchor="end">
        {f.within}
      </text>
      <text x={width} y={H + 13} text-anchor="end" class="late">
        late
      </text>
    </svg>
  );
}

function FlowView({ f, now }: { f: FlowInfo; now: number }) {
  const lat = f.latency_s || {};
  const has = lat.p50 !== undefined;
  const open = f.open_keys || [];
  const viol = f.violations || [];
  return (
    <section class="flow" data-testid={'flow-' + f.name}>
      <div class="flow-head">
        <h3>{f.name}</h3>
        <span class="mono muted">
          {f.start} → {f.end} · key {f.key} · within {f.within}
        </span>
      </div>
      <div class="cards">
        <Card title="Open" value={fmtNum(f.open)} sub={`waiting for their end · ${fmtNum(f.tracked)} of ${fmtNum(f.max_open_keys)} keys tracked`} meter={f.tracked / Math.max(1, f.max_open_keys)} />
        <Card title="Violating" value={fmtNum(f.violating)} sub="ran out of time, no end yet" tone={f.violating ? 'warn' : 'ok'} />
        <Card title="Completed" value={fmtNum(f.completed)} sub={f.dropped ? `${fmtNum(f.dropped)} starts dropped at the bound` : 'since the server started'} tone={f.dropped ? 'warn' : undefined} />
        <div class="card" data-testid="latency">
          <div class="card-title">Latency p50 (of the last {fmtNum(Math.min(f.completed, 1024))})</div>
          <div class="card-value">{has ? fmtLatency(lat.p50) : '—'}</div>
          <div class="card-sub">{has ? `p90 ${fmtLatency(lat.p90)} · p99 ${fmtLatency(lat.p99)} · max ${fmtLatency(lat.max)}` : 'no completion yet'}</div>
          {has && <LatencyBars f={f} />}
        </div>
      </div>
      <div class="flow-lists">
        <div>
          <h4>Oldest open keys</h4>
          {open.length === 0 ? (
            <div class="muted">No key is waiting for its end.</div>
          ) : (
            <table class="grid-table" data-testid="open-keys">
              <thead>
                <tr>
                  <th>{f.key}</th>
                  <th>Started</th>
                  <th class="num">Age</th>
                </tr>
              </thead>
              <tbody>
                {open.map((k) => (
                  <tr key={k.key}>
                    <td>
                      <KeyLink f={f} k={k} />
                    </td>
                    <td>{fmtTime(Date.parse(k.start))}</td>
                    <td class="num">{fmtDuration(Math.max(0, (now - Date.parse(k.start)) / 1000))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div>
          <h4>Violations</h4>
          {viol.length === 0 ? (
            <div class="muted">No key ran out of time.</div>
          ) : (
            <table class="grid-table" data-testid="violations">
              <thead>
                <tr>
                  <th>{f.key}</th>
                  <th>Started</th>
                  <th>End</th>
                </tr>
              </thead>
              <tbody>
                {viol.map((k) => (
                  <tr key={k.key} class={k.end ? 'late' : 'missing'}>
                    <td>
                      <KeyLink f={f} k={k} />
                    </td>
                    <td>{fmtTime(Date.parse(k.start))}</td>
                    <td>{k.end ? `late, after ${fmtLatency((Date.parse(k.end) - Date.parse(k.start)) / 1000)}` : 'missing'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
    </section>
  );
}

export function FlowsPage() {
  const { data, err } = usePoll(async (signal) => ({ flows: await alerts.flows(signal), at: Date.now() }), 5000);
  useTimeZone();
  const flows = data?.flows;
  const now = data?.at ?? Date.now();
  if (!flows) return <main class="status-page">{err ? <div class="banner error">{err}</div> : <div class="sb-empty shimmer">Loading flows…</div>}</main>;
  return (
    <main class="status-page flows-page">
      {err && <div class="banner error">{err}</div>}
      <h2>Flows</h2>
      {flows.length === 0 ? (
        <div class="muted">No flow is configured for this tenant (alerts.flows in the configuration; see docs/alerts.md).</div>
      ) : (
        flows.map((f) => <FlowView key={f.name} f={f} now={now} />)
      )}
    </main>
  );
}
