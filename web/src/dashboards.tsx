import { useEffect, useRef, useState } from 'preact/hooks';
import { dashboards, stats, type Dashboard, type DashboardSummary, type PartialAnswer, type Panel, type Row } from './api';
import { CHART_KINDS, Chart, chartData, StatsTable, type ChartKind } from './chart';
import { PartialBanner } from './partial';
import { fmtTime, navigate, rangeLabel } from './state';
import { TimePicker } from './timepicker';

// Dashboards: named grids of panels kept by the server per tenant
// (/api/v1/dashboards). /ui/dashboards lists them; /ui/dashboards/ID shows
// one, its time range and refresh interval shared by every panel.
// ?from=&to=&refresh= in the URL override the saved ones, so a link shows
// the same view; "Save view" keeps them in the dashboard.

export const REFRESH = ['', '10s', '30s', '1m', '5m', '15m'];

const idOfPath = () => decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/ui/dashboards')[1]?.replace(/^\//, '') || '');

export function DashboardsPage() {
  const [id, setId] = useState(idOfPath);
  useEffect(() => {
    const on = () => setId(idOfPath());
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return id ? <DashboardView key={id} id={id} /> : <DashboardList />;
}

/** Reads a JSON file the user picked. */
function readFile(input: HTMLInputElement): Promise<string> {
  const f = input.files?.[0];
  if (!f) return Promise.reject(new Error('no file chosen'));
  return f.text();
}

function DashboardList() {
  const [list, setList] = useState<DashboardSummary[] | null>(null);
  const [name, setName] = useState('');
  const [err, setErr] = useState('');
  const file = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Dashboards · Sluice';
    dashboards.list().then(setList, (e) => setErr(e.message));
  }, []);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const d = await dashboards.create({ name: name.trim(), from: 'now-1h', to: 'now', panels: [] });
      navigate('/ui/dashboards/' + d.id);
    } catch (e: any) {
      setErr(e.message);
    }
  };
  const importFile = async () => {
    try {
      const d = await dashboards.create(await readFile(file.current!));
      navigate('/ui/dashboards/' + d.id);
    } catch (e: any) {
      setErr('Import failed: ' + e.message);
    } finally {
      file.current!.value = '';
    }
  };
  return (
    <main class="dash-page">
      <div class="dash-head">
        <h1>Dashboards</h1>
        <span class="spacer" />
        <form class="dash-new" onSubmit={create}>
          <input class="input" placeholder="New dashboard name" aria-label="New dashboard name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <button class="btn primary" type="submit" disabled={!name.trim()}>
            Create
          </button>
        </form>
        <label class="btn">
          Import JSON
          <input ref={file} type="file" accept="application/json,.json" class="visually-hidden" aria-label="Import dashboard JSON" onChange={importFile} />
        </label>
      </div>
      {err && <div class="banner error">{err}</div>}
      {list === null && !err && <div class="sb-empty shimmer">Loading…</div>}
      {list?.length === 0 && (
        <div class="empty">
          <div class="empty-title">No dashboards yet</div>
          <div class="muted">Create one here, or run a stats query in Discover and pin its chart.</div>
        </div>
      )}
      {!!list?.length && (
        <table class="grid-table dash-list">
          <thead>
            <tr>
              <th>Name</th>
              <th class="num">Panels</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id}>
                <td>
                  <a
                    href={'/ui/dashboards/' + d.id}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate('/ui/dashboards/' + d.id);
                    }}
                  >
                    {d.name}
                  </a>
                </td>
                <td class="num">{d.panels}</td>
                <td class="muted">{fmtTime(Date.parse(d.updated))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

interface View {
  from: string;
  to: string;
  refresh: string;
}

function viewOf(d: Dashboard): View {
  const p = new URLSearchParams(location.search);
  return { from: p.get('from') || d.from, to: p.get('to') || d.to, refresh: p.has('refresh') ? p.get('refresh')! : d.refresh || '' };
}

function writeView(v: View, d: Dashboard) {
  const p = new URLSearchParams();
  if (v.from !== d.from) p.set('from', v.from);
  if (v.to !== d.to) p.set('to', v.to);
  if (v.refresh !== (d.refresh || '')) p.set('refresh', v.refresh);
  history.replaceState(null, '', location.pathname + (p.toString() ? '?' + p : ''));
}

function DashboardView({ id }: { id: string }) {
  const [dash, setDash] = useState<Dashboard | null>(null);
  const [view, setView] = useState<View | null>(null);
  const [err, setErr] = useState('');
  const [tick, setTick] = useState(0);
  const [editing, setEditing] = useState<number | null>(null); // panel index; -1 a new one
  useEffect(() => {
    dashboards.get(id).then(
      (d) => {
        setDash(d);
        setView(viewOf(d));
        document.title = d.name + ' · Sluice';
      },
      (e) => setErr(e.message),
    );
  }, [id]);
  useEffect(() => {
    if (!view?.refresh) return;
    const ms = parseDuration(view.refresh);
    if (!ms) return;
    const t = window.setInterval(() => document.visibilityState === 'visible' && setTick((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [view?.refresh]);

  if (err)
    return (
      <main class="dash-page">
        <BackLink />
        <div class="banner error">{err}</div>
      </main>
    );
  if (!dash || !view) return <div class="sb-empty shimmer">Loading…</div>;

  const save = async (d: Dashboard) => {
    try {
      const saved = await dashboards.save(d);
      setDash(saved);
      setErr('');
      return saved;
    } catch (e: any) {
      alert('Could not save the dashboard: ' + e.message);
      return null;
    }
  };
  const setV = (v: View) => {
    setView(v);
    writeView(v, dash);
  };
  const changed = view.from !== dash.from || view.to !== dash.to || view.refresh !== (dash.refresh || '');
  const exportJSON = () => {
    const { id: _, updated: __, ...body } = dash;
    const blob = new Blob([JSON.stringify({ ...body }, null, 2) + '\n'], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = dash.id + '.json';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const remove = async () => {
    if (!confirm(`Delete the dashboard "${dash.name}"?`)) return;
    await dashboards.remove(dash.id);
    navigate('/ui/dashboards');
  };
  const rename = async () => {
    const name = prompt('Dashboard name', dash.name);
    if (name && name.trim() && name !== dash.name) await save({ ...dash, name: name.trim() });
  };
  const setPanel = (i: number, p: Panel | null) => {
    const panels = dash.panels.slice();
    if (p === null) panels.splice(i, 1);
    else if (i < 0) panels.push(p);
    else panels[i] = p;
    return save({ ...dash, panels });
  };
  const move = (i: number, d: number) => {
    const j = i + d;
    if (j < 0 || j >= dash.panels.length) return;
    const panels = dash.panels.slice();
    [panels[i], panels[j]] = [panels[j], panels[i]];
    save({ ...dash, panels });
  };

  return (
    <main class="dash-page" data-testid="dashboard" data-id={dash.id}>
      <div class="dash-head">
        <BackLink />
        <h1 class="dash-title" onDblClick={rename} title="Double-click to rename">
          {dash.name}
        </h1>
        <span class="spacer" />
        <TimePicker from={view.from} to={view.to} onChange={(from, to) => setV({ ...view, from, to })} />
        <select class="input refresh-pick" aria-label="Refresh interval" value={view.refresh} onChange={(e) => setV({ ...view, refresh: e.currentTarget.value })}>
          {REFRESH.map((r) => (
            <option value={r}>{r ? 'Every ' + r : 'No refresh'}</option>
          ))}
        </select>
        <button class="btn" onClick={() => setTick((n) => n + 1)} title="Run every panel again">
          Refresh
        </button>
        {changed && (
          <button class="btn" onClick={() => save({ ...dash, from: view.from, to: view.to, refresh: view.refresh || undefined })} title={`Keep ${rangeLabel(view.from, view.to)} as this dashboard's range`}>
            Save view
          </button>
        )}
        <button class="btn primary" onClick={() => setEditing(-1)}>
          Add panel
        </button>
        <button class="btn" onClick={exportJSON} title="Download this dashboard as JSON">
          Export
        </button>
        <button class="btn" onClick={rename}>
          Rename
        </button>
        <button class="btn" onClick={remove}>
          Delete
        </button>
      </div>
      {editing === -1 && <PanelEditor panel={{ title: '', query: '* | stats count() as n by _time:1m', chart: 'line', width: 6 }} onCancel={() => setEditing(null)} onSave={(p) => setPanel(-1, p).then((ok) => ok && setEditing(null))} />}
      {dash.panels.length === 0 && editing !== -1 && (
        <div class="empty">
          <div class="empty-title">No panels</div>
          <div class="muted">Add a panel with a stats query, or pin a chart from Discover.</div>
        </div>
      )}
      <div class="dash-grid">
        {dash.panels.map((p, i) =>
          editing === i ? (
            <div class="panel-slot" style={{ gridColumn: `span ${p.width || 6}` }} key={'e' + i}>
              <PanelEditor panel={p} onCancel={() => setEditing(null)} onSave={(np) => setPanel(i, np).then((ok) => ok && setEditing(null))} />
            </div>
          ) : (
            <PanelView
              key={i + p.query + p.chart}
              panel={p}
              view={view}
              tick={tick}
              onEdit={() => setEditing(i)}
              onRemove={() => confirm(`Remove the panel "${p.title || p.query}"?`) && setPanel(i, null)}
              onChart={(chart) => setPanel(i, { ...p, chart })}
              onMove={(d) => move(i, d)}
            />
          ),
        )}
      </div>
    </main>
  );
}

function BackLink() {
  return (
    <a
      class="back"
      href="/ui/dashboards"
      onClick={(e) => {
        e.preventDefault();
        navigate('/ui/dashboards');
      }}
    >
      ← Dashboards
    </a>
  );
}

/** 30s, 5m, 1h as milliseconds; 0 when unreadable. */
function parseDuration(s: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(s);
  return m ? Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3 }[m[2] as 's' | 'm' | 'h'] : 0;
}

function PanelView({ panel, view, tick, onEdit, onRemove, onChart, onMove }: { panel: Panel; view: View; tick: number; onEdit: () => void; onRemove: () => void; onChart: (c: ChartKind) => void; onMove: (d: number) => void }) {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [partial, setPartial] = useState<PartialAnswer | null>(null);
  const [err, setErr] = useState('');
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    stats(panel.query, { from: view.from, to: view.to }, ac.signal).then(
      (r) => {
        setRows(r.rows);
        setPartial(r.partial);
        setErr('');
        setLoading(false);
      },
      (e) => {
        if (ac.signal.aborted) return;
        setErr(e.message);
        setLoading(false);
      },
    );
    return () => ac.abort();
  }, [panel.query, view.from, view.to, tick]);
  const data = rows && chartData(rows);
  const discover = '/?' + new URLSearchParams({ q: panel.query, from: view.from, to: view.to });
  return (
    <section class={'panel' + (loading ? ' loading' : '')} style={{ gridColumn: `span ${panel.width || 6}` }} data-testid="panel" data-query={panel.query} data-rows={rows?.length ?? ''}>
      <div class="panel-head">
        <span class="panel-title" title={panel.query}>
          {panel.title || panel.query}
        </span>
        <span class="spacer" />
        <select class="panel-kind" aria-label="Chart type" value={panel.chart} onChange={(e) => onChart(e.currentTarget.value as ChartKind)}>
          {CHART_KINDS.map((k) => (
            <option value={k.kind}>{k.label}</option>
          ))}
        </select>
        <button class="icon" title="Move left" onClick={() => onMove(-1)}>
          ‹
        </button>
        <button class="icon" title="Move right" onClick={() => onMove(1)}>
          ›
        </button>
        <a
          class="icon"
          title="Open in Discover"
          href={discover}
          onClick={(e) => {
            e.preventDefault();
            navigate(discover);
          }}
        >
          ↗
        </a>
        <button class="icon" title="Edit panel" onClick={onEdit}>
          ✎
        </button>
        <button class="icon" title="Remove panel" onClick={onRemove}>
          ×
        </button>
      </div>
      {partial && <PartialBanner partial={partial} />}
      {err ? (
        <div class="banner error">{err}</div>
      ) : rows === null ? (
        <div class="sb-empty shimmer">Loading…</div>
      ) : panel.chart === 'table' || !data ? (
        <div class="panel-table">
          {!data && rows.length > 0 && panel.chart !== 'table' && <div class="muted small">No numbers to draw: the answer as a table.</div>}
          <StatsTable rows={rows} />
        </div>
      ) : (
        <Chart data={data} kind={panel.chart} height={200} />
      )}
    </section>
  );
}

function PanelEditor({ panel, onSave, onCancel }: { panel: Panel; onSave: (p: Panel) => void; onCancel: () => void }) {
  const [p, setP] = useState(panel);
  return (
    <form
      class="panel panel-edit"
      onSubmit={(e) => {
        e.preventDefault();
        onSave({ ...p, title: p.title.trim(), query: p.query.trim() });
      }}
    >
      <label>
        Title
        <input class="input" value={p.title} placeholder="(the query)" onInput={(e) => setP({ ...p, title: e.currentTarget.value })} aria-label="Panel title" />
      </label>
      <label>
        Query
        <textarea class="input mono" rows={2} value={p.query} onInput={(e) => setP({ ...p, query: e.currentTarget.value })} aria-label="Panel query" />
      </label>
      <div class="panel-edit-row">
        <label>
          Chart
          <select class="input" value={p.chart} onChange={(e) => setP({ ...p, chart: e.currentTarget.value as ChartKind })} aria-label="Panel chart">
            {CHART_KINDS.map((k) => (
              <option value={k.kind}>{k.label}</option>
            ))}
          </select>
        </label>
        <label>
          Width
          <select class="input" value={String(p.width || 6)} onChange={(e) => setP({ ...p, width: Number(e.currentTarget.value) })} aria-label="Panel width">
            {[3, 4, 6, 8, 12].map((w) => (
              <option value={String(w)}>{w === 12 ? 'Full row' : w === 6 ? 'Half' : `${w}/12`}</option>
            ))}
          </select>
        </label>
        <span class="spacer" />
        <button class="btn" type="button" onClick={onCancel}>
          Cancel
        </button>
        <button class="btn primary" type="submit" disabled={!p.query.trim()}>
          Save panel
        </button>
      </div>
    </form>
  );
}
