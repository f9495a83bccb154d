import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { fieldNames, mergePartial, query, QueryError, stats, tail, type FieldStat, type PartialAnswer, type Row } from './api';
import { Histogram, type Histo } from './histogram';
import { addFilter, filterPart, quoteField } from './lang';
import { QueryBar, remember } from './querybar';
import { Sidebar } from './sidebar';
import { DEFAULT_FROM, fmtCount, fmtNum, formatStep, pickStep, readURL, resolveTime, writeURL, type ViewState } from './state';
import { ResultsTable } from './table';
import { TimePicker } from './timepicker';
import { ContextView } from './context';
import { PartialBanner } from './partial';
import { CHART_KINDS, Chart, chartData, StatsTable, type ChartKind } from './chart';
import { PinDialog } from './pin';
import { SavedDialog } from './saved';
import { AlertDialog } from './alertform';

// The discover page: query bar, time picker, histogram, field sidebar,
// results table and live tail, all driven by the state in the URL.

const PAGE_ROWS = 500;
const LIVE_MAX = 5000;

interface Results {
  rows: Row[];
  histo: Histo | null;
  fields: FieldStat[];
  stats: boolean; // the query has pipes: rows are aggregates, not records
  exhausted: boolean;
  ms: number;
}

const EMPTY: Results = { rows: [], histo: null, fields: [], stats: false, exhausted: true, ms: 0 };

export function Discover({ liveOnStart }: { liveOnStart: boolean }) {
  const [view, setView] = useState<ViewState>(readURL);
  const [draft, setDraft] = useState(view.q);
  const [res, setRes] = useState<Results>(EMPTY);
  const [loading, setLoading] = useState(false);
  const [progress, setProgress] = useState(0);
  const [error, setError] = useState<{ message: string; offset: number } | null>(null);
  const [notice, setNotice] = useState('');
  const [partial, setPartial] = useState<PartialAnswer | null>(null);
  const [selected, setSelected] = useState(-1);
  const [expanded, setExpanded] = useState<Set<number>>(new Set());
  const [live, setLive] = useState(liveOnStart);
  const [paused, setPaused] = useState(false);
  const [queued, setQueued] = useState<Row[]>([]);
  const [fresh, setFresh] = useState(0);
  const [liveCount, setLiveCount] = useState(0);
  const [ctxRow, setCtxRow] = useState<Row | null>(null);
  const [pinning, setPinning] = useState(false);
  const [saved, setSaved] = useState(false);
  const [alerting, setAlerting] = useState(false);
  // The hit count is known once the histogram's stats answer; until then
  // the summary says it is counting rather than "0 hits".
  const [counting, setCounting] = useState(true);
  const [range, setRange] = useState(() => ({ from: resolveTime(view.from), to: resolveTime(view.to, Date.now(), true) }));
  const abort = useRef<AbortController | null>(null);
  const inputRef = useRef<HTMLTextAreaElement | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  // A change of view state runs the search; the URL follows the state.
  const apply = useCallback((next: Partial<ViewState>, push = true) => {
    setView((v) => {
      const s = { ...v, ...next };
      writeURL(s, push);
      return s;
    });
  }, []);

  useEffect(() => {
    const onPop = () => {
      const s = readURL();
      setDraft(s.q);
      setView(s);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const run = useCallback(async (v: ViewState) => {
    abort.current?.abort();
    const ac = new AbortController();
    abort.current = ac;
    const t0 = performance.now();
    const from = resolveTime(v.from);
    const to = resolveTime(v.to, Date.now(), true);
    setRange({ from, to });
    setLoading(true);
    setProgress(0.05);
    setError(null);
    setNotice('');
    setPartial(null);
    setSelected(-1);
    setExpanded(new Set());
    setFresh(0);
    setLiveCount(0);
    setCounting(true);
    const r = { from: v.from, to: v.to };
    const filter = filterPart(v.q);
    const isStats = filter !== (v.q.trim() || '*') && v.q.includes('|');
    const step = pickStep(to - from);
    let done = 0;
    const tick = () => setProgress(0.1 + (0.9 * ++done) / 3);
    const rows: Row[] = [];
    let lastPaint = -Infinity; // the first row paints at once, however soon after the page loaded it comes
    try {
      const [rowsPartial, buckets, names] = await Promise.all([
        query(v.q, r, isStats ? 0 : PAGE_ROWS, ac.signal, (row) => {
          rows.push(row);
          // Paint streaming rows now and then, not on every line.
          const now = performance.now();
          if (now - lastPaint > 120) {
            lastPaint = now;
            setRes((p) => ({ ...p, rows: rows.slice(), stats: isStats }));
          }
        }).then((x) => (tick(), x)),
        stats(`${filter} | stats count() as n by _time:${formatStep(step)}, ${quoteField(v.group)}`, r, ac.signal).then((x) => {
          tick();
          // Show the count and the histogram as soon as they are known.
          setRes((p) => ({ ...p, histo: buildHisto(x.rows, v.group, from, to, step) }));
          setCounting(false);
          return x;
        }),
        fieldNames(filter, r, 10, ac.signal).then((x) => (tick(), x)),
      ]);
      const histo = buildHisto(buckets.rows, v.group, from, to, step);
      setPartial(mergePartial(mergePartial(rowsPartial, buckets.partial), names.partial));
      setRes({ rows, histo, fields: names.fields, stats: isStats, exhausted: rows.length < PAGE_ROWS, ms: performance.now() - t0 });
      remember(v.q);
    } catch (e: any) {
      if (ac.signal.aborted) return;
      const msg = e instanceof Error ? e.message : String(e);
      const qe = e instanceof QueryError ? e : new QueryError(msg);
      setError({ message: msg, offset: qe.line ? offsetOf(v.q, qe.line, qe.col) : -1 });
      setRes(EMPTY);
      setCounting(false);
    } finally {
      if (abort.current === ac) {
        setLoading(false);
        setProgress(1);
      }
    }
  }, []);

  useEffect(() => {
    setDraft(view.q);
    run(view);
  }, [view.q, view.from, view.to, view.group, run]);

  const cancel = () => {
    abort.current?.abort();
    setLoading(false);
    setNotice('Search cancelled — the results below are partial.');
  };

  const loadOlder = async () => {
    const last = res.rows[res.rows.length - 1];
    if (!last) return;
    const ac = new AbortController();
    abort.current = ac;
    setLoading(true);
    const seen = new Set(res.rows.filter((x) => x._time === last._time).map((x) => JSON.stringify(x)));
    const more: Row[] = [];
    try {
      const p = await query(view.q, { from: view.from, to: last._time }, PAGE_ROWS, ac.signal, (row) => {
        if (!seen.has(JSON.stringify(row))) more.push(row);
      });
      setPartial((old) => mergePartial(old, p));
      setRes((p) => ({ ...p, rows: p.rows.concat(more), exhausted: more.length === 0 }));
    } catch (e: any) {
      if (!ac.signal.aborted) setNotice(e.message);
    } finally {
      setLoading(false);
    }
  };

  // Live tail: new matching records go on top; while paused they queue.
  useEffect(() => {
    if (!live) return;
    const ac = new AbortController();
    let batch: Row[] = [];
    let timer = 0;
    const flush = () => {
      timer = 0;
      const b = batch.reverse();
      batch = [];
      if (pausedRef.current) {
        setQueued((q) => b.concat(q).slice(0, LIVE_MAX));
        return;
      }
      setRes((p) => ({ ...p, rows: b.concat(p.rows).slice(0, LIVE_MAX) }));
      setFresh((f) => Math.min(f + b.length, 50));
      setLiveCount((n) => n + b.length);
      setSelected((s) => (s >= 0 ? s + b.length : s));
      setExpanded((ex) => new Set([...ex].map((i) => i + b.length)));
      const sc = scroller.current;
      if (sc && sc.scrollTop < 80) sc.scrollTo({ top: 0 });
    };
    tail(filterPart(view.q), ac.signal, (row) => {
      if ('_dropped' in row) {
        // The server let this page go for reading too slowly: the records are stored.
        setNotice(`Live tail stopped: the page fell too far behind the incoming records (they are stored: search to see them, or tail a narrower query).`);
        setLive(false);
        return;
      }
      batch.push(row);
      if (!timer) timer = window.setTimeout(flush, 100);
    }).catch((e) => {
      if (!ac.signal.aborted) {
        setNotice('Live tail stopped: ' + e.message);
        setLive(false);
      }
    });
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [live, view.q]);

  const resume = () => {
    setPaused(false);
    if (queued.length) {
      const q = queued;
      setQueued([]);
      setRes((p) => ({ ...p, rows: q.concat(p.rows).slice(0, LIVE_MAX) }));
      setFresh(Math.min(q.length, 50));
      setLiveCount((n) => n + q.length);
      setExpanded(new Set());
      setSelected(-1);
    }
  };

  const toggle = (i: number) =>
    setExpanded((ex) => {
      const n = new Set(ex);
      if (n.has(i)) n.delete(i);
      else n.add(i);
      return n;
    });

  const filterBy = (field: string, value: string, exclude: boolean) => {
    const q = addFilter(view.q, field, value, exclude);
    setDraft(q);
    apply({ q });
  };
  const toggleColumn = (field: string) => apply({ cols: view.cols.includes(field) ? view.cols.filter((c) => c !== field) : [...view.cols, field] });

  // Keyboard: / focuses the query, j/k or arrows move, Enter expands,
  // l toggles live tail, space pauses it, Esc closes.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest('input, textarea, select, [contenteditable]') || e.ctrlKey || e.metaKey || e.altKey) return;
      const n = res.rows.length;
      const move = (d: number) => {
        e.preventDefault();
        const i = Math.max(0, Math.min(n - 1, selected + d));
        setSelected(i);
        document.querySelector(`tr.row[data-index="${i}"]`)?.scrollIntoView({ block: 'nearest' });
      };
      switch (e.key) {
        case '/':
          e.preventDefault();
          inputRef.current?.focus();
          break;
        case 'j':
        case 'ArrowDown':
          move(1);
          break;
        case 'k':
        case 'ArrowUp':
          move(-1);
          break;
        case 'Enter':
        case 'o':
          if (selected >= 0) {
            e.preventDefault();
            toggle(selected);
          }
          break;
        case 'c':
          if (selected >= 0 && res.rows[selected]) setCtxRow(res.rows[selected]);
          break;
        case 'l':
          setLive((x) => !x);
          break;
        case ' ':
          if (live) {
            e.preventDefault();
            paused ? resume() : setPaused(true);
          }
          break;
        case 'Escape':
          if (ctxRow) setCtxRow(null);
          else setExpanded(new Set());
          break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const total = res.histo?.total ?? 0;
  const chart = res.stats ? chartData(res.rows) : null;
  const chartKind: ChartKind = (view.chart as ChartKind) || (chart?.kind === 'group' ? 'bar' : chart && chart.series.length > 1 ? 'stacked' : 'line');
  return (
    <div class="discover">
      <div class="toolbar">
        <QueryBar
          value={draft}
          onInput={setDraft}
          onSubmit={(q) => (q === view.q ? run(view) : apply({ q: q.trim() || '*' }))}
          fields={res.fields}
          error={error}
          inputRef={inputRef}
        />
        <TimePicker from={view.from} to={view.to} onChange={(from, to) => apply({ from, to })} />
        {loading ? (
          <button class="btn danger" onClick={cancel} title="Stop this search">
            Cancel
          </button>
        ) : (
          <button class="btn primary" onClick={() => (draft === view.q ? run(view) : apply({ q: draft.trim() || '*' }))} title="Search (Enter)">
            Search
          </button>
        )}
        <button class="btn" onClick={() => setSaved(true)} title="Save this search, or open a saved one">
          Saved
        </button>
        <button class="btn" onClick={() => setAlerting(true)} title="Create an alert rule from this query">
          Create alert
        </button>
        <button class={'btn live-btn' + (live ? ' on' : '')} aria-pressed={live} onClick={() => setLive(!live)} title="Live tail (l)">
          <span class="live-dot" />
          {live ? 'Live' : 'Live tail'}
        </button>
      </div>
      <div class={'progress' + (loading ? ' active' : '')} role="progressbar" aria-valuenow={Math.round(progress * 100)}>
        <span style={{ width: progress * 100 + '%' }} />
      </div>
      <div class="body">
        <Sidebar
          fields={res.fields}
          total={total}
          cols={view.cols}
          group={view.group}
          loading={loading}
          onFilter={filterBy}
          onColumn={toggleColumn}
          onGroup={(group) => apply({ group })}
        />
        <section class="main" ref={scroller}>
          <div class="summary">
            {counting && !error ? (
              <span class="hits muted" data-testid="hits" data-counting="true">
                Counting hits…
              </span>
            ) : (
              <span class={'hits' + (error ? ' hidden' : '')} data-testid="hits">
                <b>{fmtNum(total)}</b> {total === 1 ? 'hit' : 'hits'}
              </span>
            )}
            {liveCount > 0 && <span class="pill live-pill">+{fmtNum(liveCount)} live</span>}
            {res.histo && <span class="muted">· {formatStep(res.histo.step)} buckets</span>}
            {view.group !== 'level' && (
              <span class="pill">
                grouped by {view.group}
                <button class="th-x" title="Group by level again" onClick={() => apply({ group: 'level' })}>
                  ×
                </button>
              </span>
            )}
            <span class="spacer" />
            {loading ? (
              <span class="muted">
                Searching… {res.rows.length ? fmtCount(res.rows.length, 'row') : ''}
              </span>
            ) : (
              res.ms > 0 && <span class="muted">{res.stats ? fmtCount(res.rows.length, 'row') : res.histo && res.rows.length >= total ? `all ${fmtNum(res.rows.length)} shown` : `newest ${fmtNum(res.rows.length)} shown`} · {Math.round(res.ms)} ms</span>
            )}
            {live && (
              <span class="live-ctl">
                {paused ? (
                  <button class="btn small" onClick={resume}>
                    ▶ Resume{queued.length ? ` (${fmtNum(queued.length)} new)` : ''}
                  </button>
                ) : (
                  <button class="btn small" onClick={() => setPaused(true)}>
                    ❚❚ Pause
                  </button>
                )}
              </span>
            )}
          </div>
          {notice && <div class="banner">{notice}</div>}
          {partial && !error && <PartialBanner partial={partial} />}
          {!error && <Histogram data={res.histo} from={range.from} to={range.to} onZoom={(a, b) => apply({ from: new Date(a).toISOString(), to: new Date(b).toISOString() })} />}
          {error ? (
            <div class="empty">
              <div class="empty-title">The query could not run</div>
              <div class="muted">Fix the query above; the error is marked where the parser stopped.</div>
            </div>
          ) : res.stats ? (
            <div class={'stats-view' + (chart && chartKind !== 'table' ? '' : ' table-only')}>
              {chart && (
                <div class="stats-chart">
                  <div class="stats-chart-bar">
                    <div class="tabs" role="tablist" aria-label="Chart type">
                      {CHART_KINDS.filter((k) => (chart.kind === 'group' ? k.kind === 'bar' || k.kind === 'table' : k.kind !== 'bar')).map((k) => (
                        <button role="tab" aria-selected={chartKind === k.kind} class={chartKind === k.kind ? 'on' : ''} onClick={() => apply({ chart: k.kind }, false)}>
                          {k.label}
                        </button>
                      ))}
                    </div>
                    <span class="spacer" />
                    <button class="btn small" onClick={() => setPinning(true)} title="Add this chart to a dashboard">
                      Pin to dashboard
                    </button>
                  </div>
                  {chartKind !== 'table' && <Chart data={chart} kind={chartKind} />}
                </div>
              )}
              <div class="stats-rows">
                <StatsTable rows={res.rows} />
              </div>
            </div>
          ) : res.rows.length === 0 && !loading ? (
            <div class="empty">
              <div class="empty-title">No logs match</div>
              <div class="muted">Widen the time range, or remove a filter. {live ? 'Live tail is on: new matching lines will appear here.' : ''}</div>
            </div>
          ) : (
            <ResultsTable
              rows={res.rows}
              cols={view.cols}
              selected={selected}
              setSelected={setSelected}
              expanded={expanded}
              toggle={toggle}
              fresh={live ? fresh : 0}
              actions={{ filter: filterBy, toggleColumn, context: setCtxRow }}
            />
          )}
          {!res.stats && !res.exhausted && !loading && !live && (
            <div class="load-more">
              <button class="btn" onClick={loadOlder}>
                Load older lines
              </button>
            </div>
          )}
        </section>
      </div>
      {ctxRow && <ContextView row={ctxRow} onClose={() => setCtxRow(null)} />}
      {saved && (
        <SavedDialog
          query={view.q}
          from={view.from}
          to={view.to}
          onClose={() => setSaved(false)}
          onOpen={(x) => {
            setSaved(false);
            setDraft(x.query);
            apply({ q: x.query, from: x.from || DEFAULT_FROM, to: x.to || 'now' });
          }}
        />
      )}
      {alerting && <AlertDialog query={view.q} from={view.from} to={view.to} onClose={() => setAlerting(false)} />}
      {pinning && <PinDialog query={view.q} chart={chartKind} from={view.from} to={view.to} onClose={() => setPinning(false)} />}
    </div>
  );
}

/** Converts "stats count() by _time:step, group" rows to stacked series. */
function buildHisto(rows: Row[], group: string, from: number, to: number, step: number): Histo {
  const start = Math.floor(from / step) * step;
  const times: number[] = [];
  for (let t = start; t <= to; t += step) times.push(t);
  const idx = new Map(times.map((t, i) => [t, i]));
  const groups = new Map<string, number[]>();
  let total = 0;
  for (const r of rows) {
    const t = Date.parse(r._time);
    const i = idx.get(t);
    const n = Number(r.n) || 0;
    total += n;
    if (i === undefined) continue;
    const g = String(r[group] ?? '');
    let c = groups.get(g);
    if (!c) groups.set(g, (c = new Array(times.length).fill(0)));
    c[i] += n;
  }
  // Severe levels last, so that they stack on top where the eye looks.
  const order = (name: string) => ['trace', 'debug', '', 'info', 'notice', 'warn', 'warning', 'error', 'fatal'].indexOf(name.toLowerCase());
  const list = [...groups.entries()]
    .map(([name, counts]) => ({ name, counts }))
    .sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
  return { times, step, groups: list, total };
}

/** The string offset of a 1-based line and column. */
function offsetOf(q: string, line: number, col: number): number {
  const lines = q.split('\n');
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  return Math.min(off + col - 1, q.length);
}
