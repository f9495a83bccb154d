import { useState } from 'preact/hooks';
import { alerts } from './api';
import { usePoll } from './poll';
import { navigate } from './state';

// The alerts page (/ui/alerts): the tenant's rules with their health, flows,
// alerts, silences (created and expired here), notifiers and history, from
// GET /api/v1/alerts, refreshed every 5 s.

function labelText(l: Record<string, string>): string {
  return Object.entries(l)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function when(t?: string): string {
  return t && !t.startsWith('0001') ? new Date(t).toLocaleString() : '—';
}

export function AlertsPage() {
  const { data: o, err, setErr, refresh } = usePoll(alerts.overview, 5000);
  const [matcher, setMatcher] = useState('');
  const [hours, setHours] = useState('2');
  const [comment, setComment] = useState('');

  const addSilence = async (e: Event) => {
    e.preventDefault();
    const m = /^\s*([A-Za-z_][\w.]*)\s*(=~|=)\s*(.*?)\s*$/.exec(matcher);
    if (!m) {
      setErr('A matcher is name=value or name=~regex');
      return;
    }
    try {
      await alerts.silence({
        matchers: [{ name: m[1], value: m[3], isRegex: m[2] === '=~' }],
        endsAt: new Date(Date.now() + Number(hours) * 3600e3).toISOString(),
        comment,
      });
      setMatcher('');
      setComment('');
      refresh();
    } catch (e: any) {
      setErr(e.message || String(e));
    }
  };
  const expire = async (id: string) => {
    try {
      await alerts.expire(id);
      refresh();
    } catch (e: any) {
      setErr(e.message || String(e));
    }
  };

  const removeRule = async (name: string) => {
    if (!confirm(`Delete the rule ${name}? Its firing alerts resolve.`)) return;
    try {
      await alerts.deleteRule(name);
      refresh();
    } catch (e: any) {
      setErr(e.message || String(e));
    }
  };

  if (!o) return <main class="status-page">{err ? <div class="banner error">{err}</div> : <div class="sb-empty shimmer">Loading alerts…</div>}</main>;
  const active = o.silences.filter((s) => new Date(s.endsAt).getTime() > Date.now());
  return (
    <main class="status-page alerts-page">
      {err && <div class="banner error">{err}</div>}
      <h2>Alerts</h2>
      {o.alerts.length === 0 ? (
        <div class="muted">No alert is pending or firing.</div>
      ) : (
        <table class="grid-table alerts" data-testid="alerts">
          <thead>
            <tr>
              <th>State</th>
              <th>Rule or flow</th>
              <th>Labels</th>
              <th>Since</th>
              <th>Summary</th>
            </tr>
          </thead>
          <tbody>
            {o.alerts.map((a) => (
              <tr key={a.fingerprint} class={'state-' + a.state}>
                <td>{a.state}</td>
                <td>{a.source}</td>
                <td class="mono">{labelText(a.labels)}</td>
                <td>{when(a.fired_at || a.active_at)}</td>
                <td>{a.annotations?.summary || ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Rules</h2>
      <table class="grid-table rules" data-testid="rules">
        <thead>
          <tr>
            <th>Rule</th>
            <th>Query</th>
            <th>Condition</th>
            <th>Every / window / for</th>
            <th class="num">Firing</th>
            <th class="num">Pending</th>
            <th>Last evaluation</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {o.rules.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td>
              <td class="mono">{r.query}</td>
              <td class="mono">{r.condition}</td>
              <td>
                {r.every} / {r.window} / {r.for}
              </td>
              <td class="num">{r.firing}</td>
              <td class="num">{r.pending}</td>
              <td>
                {when(r.last_eval)}
                {r.last_error && <div class="banner error">{r.last_error}</div>}
              </td>
              <td>
                {r.runtime ? (
                  <button class="btn small" onClick={() => removeRule(r.name)} aria-label={'Delete rule ' + r.name} title="Made through the API or Discover's Create alert">
                    Delete
                  </button>
                ) : (
                  <span class="muted small" title="Rules of the configuration file are changed there">
                    config
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Flows</h2>
      <table class="grid-table flows" data-testid="flows">
        <thead>
          <tr>
            <th>Flow</th>
            <th>Start → end (key, within)</th>
            <th class="num">Open</th>
            <th class="num">Violating</th>
            <th class="num">Completed</th>
            <th class="num">Dropped</th>
            <th>Latency p50 / p99</th>
          </tr>
        </thead>
        <tbody>
          {o.flows.map((f) => (
            <tr key={f.name}>
              <td>
                <a
                  href="/ui/flows"
                  title="Open keys, latency and violations on the flows page"
                  onClick={(e) => {
                    e.preventDefault();
                    navigate('/ui/flows');
                  }}
                >
                  {f.name}
                </a>
              </td>
              <td class="mono">
                {f.start} → {f.end} ({f.key}, {f.within})
              </td>
              <td class="num">{f.open}</td>
              <td class="num">{f.violating}</td>
              <td class="num">{f.completed}</td>
              <td class="num">{f.dropped}</td>
              <td>{f.latency_s && f.latency_s.p50 !== undefined ? `${f.latency_s.p50.toFixed(2)} s / ${(f.latency_s.p99 ?? 0).toFixed(2)} s` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Silences</h2>
      <form class="silence-form" onSubmit={addSilence}>
        <input aria-label="Matcher" placeholder="service=payments or order_id=~o-00.*" value={matcher} onInput={(e) => setMatcher((e.target as HTMLInputElement).value)} />
        <input aria-label="Hours" type="number" min="0.1" step="0.1" value={hours} onInput={(e) => setHours((e.target as HTMLInputElement).value)} />
        <input aria-label="Comment" placeholder="why" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
        <button class="btn primary" type="submit" disabled={!matcher.trim()}>
          Silence
        </button>
      </form>
      <table class="grid-table silences" data-testid="silences">
        <tbody>
          {active.map((s) => (
            <tr key={s.id}>
              <td class="mono">{s.matchers.map((m) => `${m.name}${m.isRegex ? '=~' : '='}${m.value}`).join(', ')}</td>
              <td>until {when(s.endsAt)}</td>
              <td>{s.comment}</td>
              <td>
                <button class="btn" onClick={() => expire(s.id)}>
                  Expire
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Notifiers</h2>
      <table class="grid-table notifiers">
        <tbody>
          {o.notifiers.map((n) => (
            <tr key={n.name}>
              <td>{n.name}</td>
              <td>{n.type}</td>
              <td class="num">{n.sent} sent</td>
              <td class="num">{n.failed} failed</td>
              <td>{n.last_error || ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>History</h2>
      <table class="grid-table history">
        <tbody>
          {o.history.slice(0, 100).map((h, i) => (
            <tr key={i}>
              <td>{when(h.time)}</td>
              <td>{h.source}</td>
              <td class="mono">{labelText(h.labels)}</td>
              <td>
                {h.from} → {h.to}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
