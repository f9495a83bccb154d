import { useEffect, useState } from 'preact/hooks';
import { alerts, type RuleSpec } from './api';
import { filterPart, tokenize } from './lang';
import { Modal } from './modal';
import { copyText, navigate } from './state';

// "Create alert" from Discover: the current query as a rule (a stats query
// as it is, any other query counted with `| stats count() as n`), made on
// the server with POST /api/v1/rules and run like a configured rule; or
// its YAML for alerts.rules in the configuration.

/** The rule's query: q when it has a stats pipe, else its filter counted. */
export function ruleQuery(q: string): string {
  const pipes = tokenize(q).filter((t) => t.kind === 'pipe');
  if (pipes.some((p) => /^\s*stats\b/.test(q.slice(p.start + 1)))) return q.trim();
  return `${filterPart(q)} | stats count() as n`;
}

/** The first value column of a stats pipe (`… as n`), for the condition. */
function firstColumn(q: string): string {
  const m = /\bstats\b[^|]*?\bas\s+([\p{L}\p{N}_.]+)/u.exec(q);
  return m ? m[1] : 'n';
}

/** The window a range reads: now-15m → 15m; 5m for other ranges. */
function windowOf(from: string, to: string): string {
  const m = /^now-(\d+(?:ms|[smhd]))$/.exec(from);
  return m && to === 'now' ? m[1] : '5m';
}

function parseLabels(s: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) return `labels: "${part}" is not name=value`;
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** The rule as an alerts.rules entry of the configuration (YAML). */
export function ruleYAML(r: RuleSpec): string {
  const q = (s: string) => "'" + s.replace(/'/g, "''") + "'";
  const lines = [`- name: ${q(r.name)}`, `  query: ${q(r.query.replace(/\s*\n\s*/g, ' '))}`, `  every: ${r.every}`, `  window: ${r.window}`, `  condition: ${q(r.condition)}`];
  if (r.for && r.for !== '0s') lines.push(`  for: ${r.for}`);
  const labels = Object.entries(r.labels);
  if (labels.length) lines.push(`  labels: {${labels.map(([k, v]) => `${q(k)}: ${q(v)}`).join(', ')}}`);
  if (r.notify.length) lines.push(`  notify: [${r.notify.map(q).join(', ')}]`);
  return lines.join('\n') + '\n';
}

interface Props {
  query: string;
  from: string;
  to: string;
  onClose: () => void;
}

export function AlertDialog({ query, from, to, onClose }: Props) {
  const q0 = ruleQuery(query);
  const [name, setName] = useState('');
  const [q, setQ] = useState(q0);
  const [every, setEvery] = useState('1m');
  const [window, setWindow] = useState(windowOf(from, to));
  const [condition, setCondition] = useState(`${firstColumn(q0)} > 0`);
  const [forD, setFor] = useState('0s');
  const [labels, setLabels] = useState('');
  const [notifiers, setNotifiers] = useState<string[] | null>(null);
  const [notify, setNotify] = useState<string[]>([]);
  const [err, setErr] = useState('');
  const [done, setDone] = useState('');
  // The YAML follows the form once shown.
  const [showYAML, setShowYAML] = useState(false);
  useEffect(() => {
    alerts.overview().then(
      (o) => setNotifiers(o.notifiers.map((n) => n.name)),
      (e) => setErr(e.message),
    );
  }, []);
  const spec = (): RuleSpec | string => {
    const l = parseLabels(labels);
    if (typeof l === 'string') return l;
    return { name: name.trim(), query: q, every, window, condition, for: forD, labels: l, notify };
  };
  const create = async (e: Event) => {
    e.preventDefault();
    const r = spec();
    if (typeof r === 'string') return setErr(r);
    try {
      await alerts.createRule(r);
      setDone(r.name);
      setErr('');
    } catch (e: any) {
      setErr(e.message);
    }
  };
  const current = showYAML ? spec() : null;
  const yaml = current && typeof current !== 'string' ? ruleYAML(current) : '';
  const field = (label: string, value: string, set: (v: string) => void, hint = '') => (
    <label>
      {label}
      <input class="input" value={value} onInput={(e) => set(e.currentTarget.value)} aria-label={label} placeholder={hint} />
    </label>
  );
  return (
    <Modal label="Create alert" title="Create an alert rule from this query" cls="pin alert-form" onClose={onClose}>
      {done ? (
        <div class="pin-body" data-testid="rule-created">
          <div>
            Rule <b>{done}</b> created: it runs every {every} over the last {window}.{' '}
            <a
              href="/ui/alerts"
              onClick={(e) => {
                e.preventDefault();
                navigate('/ui/alerts');
              }}
            >
              Open the alerts page
            </a>
          </div>
        </div>
      ) : (
        <form class="pin-body" onSubmit={create}>
          {field('Name', name, setName, 'payments-errors')}
          <label>
            Query (with a stats pipe)
            <textarea class="input mono" rows={2} value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-label="Rule query" />
          </label>
          <div class="form-row">
            {field('Condition', condition, setCondition, 'n > 100')}
            {field('Every', every, setEvery, '1m')}
            {field('Window', window, setWindow, '5m')}
            {field('For', forD, setFor, '0s')}
          </div>
          {field('Labels', labels, setLabels, 'team=payments, severity=page')}
          <fieldset class="notify">
            <legend>Notify</legend>
            {notifiers === null ? (
              <span class="muted">…</span>
            ) : notifiers.length === 0 ? (
              <span class="muted">No notifier is configured (alerts.notifiers): the alert shows on the alerts page only.</span>
            ) : (
              notifiers.map((n) => (
                <label class="check">
                  <input type="checkbox" checked={notify.includes(n)} onChange={(e) => setNotify(e.currentTarget.checked ? [...notify, n] : notify.filter((x) => x !== n))} />
                  {n}
                </label>
              ))
            )}
          </fieldset>
          <div class="muted small">Each result row whose condition holds is an alert (one per group of the stats' by fields); it fires once the condition has held for "for". The rule is kept by the server for this tenant and can be deleted on the alerts page.</div>
          {(err || typeof current === 'string') && <div class="banner error">{err || current}</div>}
          {yaml && (
            <div class="yaml">
              <pre data-testid="rule-yaml">{yaml}</pre>
              <button class="btn small" type="button" onClick={() => copyText(yaml)}>
                Copy
              </button>
            </div>
          )}
          <div class="pin-actions">
            <button class="btn" type="button" onClick={() => setShowYAML(true)} disabled={!name.trim()} title="The rule as an alerts.rules entry, to keep it in the configuration instead">
              YAML for the configuration
            </button>
            <button class="btn primary" type="submit" disabled={!name.trim() || !q.trim() || !condition.trim()}>
              Create rule
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}
