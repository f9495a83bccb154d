import { useEffect, useState } from 'preact/hooks';
import { dashboards, type DashboardSummary } from './api';
import type { ChartKind } from './chart';
import { Modal } from './modal';
import { navigate } from './state';

// Pins a stats query's chart to a dashboard: an existing one (the panel is
// added at its end) or a new one with the query's time range.

interface Props {
  query: string;
  chart: ChartKind;
  from: string;
  to: string;
  onClose: () => void;
}

export function PinDialog({ query, chart, from, to, onClose }: Props) {
  const [list, setList] = useState<DashboardSummary[] | null>(null);
  const [target, setTarget] = useState(''); // a dashboard id, or '' for a new one
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  const [err, setErr] = useState('');
  const [done, setDone] = useState<{ id: string; name: string } | null>(null);
  useEffect(() => {
    dashboards.list().then((l) => {
      setList(l);
      if (l.length) setTarget(l[0].id);
    }, (e) => setErr(e.message));
  }, []);
  const pin = async (e: Event) => {
    e.preventDefault();
    const panel = { title: title.trim(), query, chart, width: 6 };
    try {
      if (target) {
        const d = await dashboards.get(target);
        const saved = await dashboards.save({ ...d, panels: [...d.panels, panel] });
        setDone({ id: saved.id, name: saved.name });
      } else {
        const d = await dashboards.create({ name: name.trim(), from, to, panels: [panel] });
        setDone({ id: d.id, name: d.name });
      }
    } catch (e: any) {
      setErr(e.message);
    }
  };
  return (
    <Modal label="Pin to dashboard" title="Pin chart to a dashboard" cls="pin" onClose={onClose}>
      <form onSubmit={pin}>
        <div class="pin-body">
          {done ? (
            <div data-testid="pinned">
              Pinned to <b>{done.name}</b>.{' '}
              <a
                href={'/ui/dashboards/' + done.id}
                onClick={(e) => {
                  e.preventDefault();
                  navigate('/ui/dashboards/' + done.id);
                }}
              >
                Open the dashboard
              </a>
            </div>
          ) : (
            <>
              <div class="mono small muted">{query}</div>
              <label>
                Dashboard
                <select class="input" value={target} onChange={(e) => setTarget(e.currentTarget.value)} aria-label="Dashboard">
                  {(list || []).map((d) => (
                    <option value={d.id}>{d.name}</option>
                  ))}
                  <option value="">New dashboard…</option>
                </select>
              </label>
              {!target && (
                <label>
                  Name
                  <input class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} aria-label="New dashboard name" autoFocus />
                </label>
              )}
              <label>
                Panel title
                <input class="input" value={title} placeholder="(the query)" onInput={(e) => setTitle(e.currentTarget.value)} aria-label="Panel title" />
              </label>
              {err && <div class="banner error">{err}</div>}
              <div class="pin-actions">
                <button class="btn primary" type="submit" disabled={list === null || (!target && !name.trim())}>
                  Pin
                </button>
              </div>
            </>
          )}
        </div>
      </form>
    </Modal>
  );
}
