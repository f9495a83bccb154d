import { useEffect, useRef, useState } from 'preact/hooks';
import type { Row } from './api';
import { groupColor } from './histogram';
import { fmtNum, fmtTime, levelClass, useTimeZone } from './state';

// Charts of stats answers, drawn as SVG by this file (no chart library: a
// few hundred bars and lines need none). A `stats … by _time:step` answer
// is a time series (a line per series, or bars stacked per bucket); a
// `stats … by field` answer is one bar per group. The API sends computed
// values as JSON numbers and group values as strings, which tells the
// value columns from the group columns without parsing the query.
//
// Every drawn mark carries its series and value in data attributes
// (data-series, data-x, data-value) so that tests check what is drawn.

export type ChartKind = 'line' | 'stacked' | 'bar' | 'table';
export const CHART_KINDS: { kind: ChartKind; label: string }[] = [
  { kind: 'line', label: 'Line' },
  { kind: 'stacked', label: 'Stacked bars' },
  { kind: 'bar', label: 'Bars' },
  { kind: 'table', label: 'Table' },
];

export interface Series {
  name: string;
  values: (number | null)[];
}

export interface ChartData {
  /** time: x are bucket starts in ms; group: x are group labels. */
  kind: 'time' | 'group';
  x: (number | string)[];
  series: Series[];
  /** Groups left out of a bar chart (beyond MAX_BARS). */
  omitted: number;
}

const MAX_BARS = 60;
const MAX_SERIES = 12;

/** The text of an empty group value in charts and tables. */
export const NONE = '(none)';

/** The value columns (numbers) and group columns (strings but _time) of stats rows. */
export function columnsOf(rows: Row[]): { values: string[]; groups: string[] } {
  const values: string[] = [];
  const groups: string[] = [];
  if (!rows.length) return { values, groups };
  for (const c of Object.keys(rows[0])) {
    if (c === '_time') continue;
    const v = rows.find((r) => r[c] !== null && r[c] !== undefined)?.[c] as unknown;
    if (typeof v === 'number' || v === undefined) values.push(c);
    else groups.push(c);
  }
  return { values, groups };
}

/** Reads stats rows into a chart's series; null when there is nothing to draw. */
export function chartData(rows: Row[]): ChartData | null {
  const { values, groups } = columnsOf(rows);
  if (!rows.length || !values.length) return null;
  const label = (r: Row) => groups.map((g) => (r[g] === '' || r[g] == null ? NONE : String(r[g]))).join(' · ');
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  if ('_time' in rows[0]) {
    const xs = [...new Set(rows.map((r) => Date.parse(r._time)))].filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
    const at = new Map(xs.map((t, i) => [t, i]));
    const byName = new Map<string, Series>();
    for (const r of rows) {
      const i = at.get(Date.parse(r._time));
      if (i === undefined) continue;
      const g = label(r);
      for (const v of values) {
        const name = groups.length ? (values.length > 1 ? `${v} · ${g}` : g) : v;
        let s = byName.get(name);
        if (!s) byName.set(name, (s = { name, values: new Array(xs.length).fill(null) }));
        const n = num(r[v]);
        if (n !== null) s.values[i] = (s.values[i] ?? 0) + n;
      }
    }
    // The biggest series first; beyond MAX_SERIES they would be unreadable.
    // A series with no number (avg over records without the field) draws nothing: no legend entry either.
    const all = [...byName.values()].filter((x) => x.values.some((v) => v !== null));
    const series = all.sort((a, b) => sum(b.values) - sum(a.values)).slice(0, MAX_SERIES);
    return { kind: 'time', x: xs, series, omitted: Math.max(0, all.length - MAX_SERIES) };
  }
  const shown = rows.slice(0, MAX_BARS);
  return {
    kind: 'group',
    x: shown.map((r) => (groups.length ? label(r) : 'all')),
    series: values.map((v) => ({ name: v, values: shown.map((r) => num(r[v])) })),
    omitted: rows.length - shown.length,
  };
}

const sum = (vs: (number | null)[]) => vs.reduce<number>((a, b) => a + (b ?? 0), 0);

/** Round tick values from 0 (or the minimum, when negative) to above max. */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (max <= min) max = min + 1;
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.floor(min / step) * step; v < max + step - 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return v / 1e9 + 'G';
  if (a >= 1e6) return v / 1e6 + 'M';
  if (a >= 1e4) return v / 1e3 + 'k';
  return fmtNum(v);
}

function fmtValue(v: number | null): string {
  if (v === null) return '–';
  return Number.isInteger(v) ? fmtNum(v) : v.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** HH:MM, or MM-DD HH:MM when the span crosses days. */
function timeTick(ms: number, span: number): string {
  const s = fmtTime(ms);
  return span >= 86400e3 ? s.slice(5, 16) : s.slice(11, 16);
}

interface Props {
  data: ChartData;
  kind: ChartKind;
  height?: number;
}

const PAD = { top: 10, right: 12, bottom: 24, left: 48 };

/** Draws data as kind: a time series as lines or stacked bars, groups as bars. */
export function Chart({ data, kind, height = 220 }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useTimeZone(); // axis labels follow the time zone setting
  useEffect(() => {
    const el = ref.current!;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const mode = data.kind === 'group' ? 'bar' : kind === 'line' ? 'line' : 'stacked';
  const colors = data.series.map((s, i) => groupColor(s.name, i));
  return (
    <div class="chart" ref={ref} data-chart={mode} data-testid="chart">
      {width > 0 &&
        (mode === 'bar' ? <Bars data={data} width={width} height={height} colors={colors} /> : <TimeChart data={data} width={width} height={height} colors={colors} stacked={mode === 'stacked'} />)}
      {data.series.length > 1 && (
        <div class="chart-legend">
          {data.series.map((s, i) => (
            <span key={s.name}>
              <i style={{ background: colors[i] }} />
              {s.name}
            </span>
          ))}
        </div>
      )}
      {data.omitted > 0 && (
        <div class="muted small">
          {fmtNum(data.omitted)} more {data.kind === 'group' ? 'groups' : 'series'} not drawn (see the table)
        </div>
      )}
    </div>
  );
}

function YAxis({ ticks, y, width }: { ticks: number[]; y: (v: number) => number; width: number }) {
  return (
    <g class="axis">
      {ticks.map((t) => (
        <g key={t}>
          <line x1={PAD.left} x2={width - PAD.right} y1={y(t)} y2={y(t)} class="gridline" />
          <text x={PAD.left - 6} y={y(t) + 4} text-anchor="end">
            {fmtTick(t)}
          </text>
        </g>
      ))}
    </g>
  );
}

function TimeChart({ data, width, height, colors, stacked }: { data: ChartData; width: number; height: number; colors: string[]; stacked: boolean }) {
  const xs = data.x as number[];
  const n = xs.length;
  // Bucket width: the smallest gap between buckets (one bucket: a minute).
  let step = 60e3;
  for (let i = 1; i < n; i++) step = i === 1 ? xs[1] - xs[0] : Math.min(step, xs[i] - xs[i - 1]);
  const x0 = xs[0];
  const x1 = xs[n - 1] + step; // the last bucket ends a step after its start: it is drawn whole
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const px = (t: number) => PAD.left + ((t - x0) / (x1 - x0)) * plotW;
  // Stacked: each bucket's bars sit on the sum of the series before them.
  const tops = stacked ? xs.map((_, i) => data.series.reduce((a, s) => a + (s.values[i] ?? 0), 0)) : [];
  const all = stacked ? tops : data.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const lo = Math.min(0, ...all);
  const ticks = niceTicks(lo, Math.max(...all, 0));
  const top = ticks[ticks.length - 1];
  const bottom = ticks[0];
  const py = (v: number) => PAD.top + plotH - ((v - bottom) / (top - bottom || 1)) * plotH;
  const span = x1 - x0;
  const labels = Math.max(2, Math.floor(plotW / 90));
  const every = Math.max(1, Math.ceil(n / labels));
  const bw = Math.max(1, (plotW * step) / span - 2);
  return (
    <svg width={width} height={height} class="chart-svg" role="img" aria-label={stacked ? 'Stacked bar chart over time' : 'Line chart over time'}>
      <YAxis ticks={ticks} y={py} width={width} />
      <g class="axis">
        {xs.map((t, i) =>
          i % every === 0 ? (
            <text key={t} x={px(t) + (px(t + step) - px(t)) / 2} y={height - 6} text-anchor="middle">
              {timeTick(t, span)}
            </text>
          ) : null,
        )}
      </g>
      {stacked
        ? (() => {
            const base = new Array(n).fill(0);
            return data.series.map((s, si) => (
              <g key={s.name} data-series={s.name} fill={colors[si]}>
                {s.values.map((v, i) => {
                  if (!v) return null;
                  const y0 = base[i];
                  base[i] += v;
                  return (
                    <rect key={i} class="mark" x={px(xs[i]) + 1} width={bw} y={py(base[i])} height={Math.max(0.5, py(y0) - py(base[i]))} data-series={s.name} data-x={new Date(xs[i]).toISOString()} data-value={v}>
                      <title>{`${fmtTime(xs[i])}  ${s.name}: ${fmtValue(v)}`}</title>
                    </rect>
                  );
                })}
              </g>
            ));
          })()
        : data.series.map((s, si) => {
            const mid = (i: number) => px(xs[i]) + (px(xs[i] + step) - px(xs[i])) / 2;
            // A gap (no value in a bucket) breaks the line: stats makes no row for an empty bucket.
            let d = '';
            s.values.forEach((v, i) => {
              if (v === null) return;
              d += (i > 0 && s.values[i - 1] !== null ? 'L' : 'M') + mid(i).toFixed(1) + ' ' + py(v).toFixed(1);
            });
            return (
              <g key={s.name} data-series={s.name}>
                <path d={d} fill="none" stroke={colors[si]} stroke-width="2" stroke-linejoin="round" />
                {s.values.map((v, i) =>
                  v === null ? null : (
                    <circle key={i} class="mark" cx={mid(i)} cy={py(v)} r={n > 60 ? 1.5 : 3} fill={colors[si]} data-series={s.name} data-x={new Date(xs[i]).toISOString()} data-value={v}>
                      <title>{`${fmtTime(xs[i])}  ${s.name}: ${fmtValue(v)}`}</title>
                    </circle>
                  ),
                )}
              </g>
            );
          })}
      <line x1={PAD.left} x2={width - PAD.right} y1={py(0)} y2={py(0)} class="baseline" />
    </svg>
  );
}

function Bars({ data, width, height, colors }: { data: ChartData; width: number; height: number; colors: string[] }) {
  const labels = data.x as string[];
  const ns = data.series.length;
  const all = data.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const ticks = niceTicks(Math.min(0, ...all), Math.max(0, ...all));
  const top = ticks[ticks.length - 1];
  const bottom = ticks[0];
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const py = (v: number) => PAD.top + plotH - ((v - bottom) / (top - bottom || 1)) * plotH;
  const slot = plotW / Math.max(1, labels.length);
  const bw = Math.max(1, Math.min(64, (slot * 0.8) / ns));
  const maxChars = Math.max(3, Math.floor(slot / 7));
  return (
    <svg width={width} height={height} class="chart-svg" role="img" aria-label="Bar chart">
      <YAxis ticks={ticks} y={py} width={width} />
      {labels.map((l, i) => {
        const cx = PAD.left + slot * i + slot / 2;
        return (
          <g key={l + i}>
            {data.series.map((s, si) => {
              const v = s.values[i];
              if (v === null) return null;
              const x = cx - (bw * ns) / 2 + bw * si;
              const y = Math.min(py(v), py(0));
              return (
                <rect key={s.name} class="mark" x={x} width={bw - 1} y={y} height={Math.max(0.5, Math.abs(py(0) - py(v)))} fill={ns > 1 ? colors[si] : levelClass(l) !== 'other' ? groupColor(l, i) : colors[0]} data-series={s.name} data-x={l} data-value={v}>
                  <title>{`${l}  ${s.name}: ${fmtValue(v)}`}</title>
                </rect>
              );
            })}
            <text class="axis" x={cx} y={height - 6} text-anchor="middle">
              {l.length > maxChars ? l.slice(0, maxChars - 1) + '…' : l}
            </text>
          </g>
        );
      })}
      <line x1={PAD.left} x2={width - PAD.right} y1={py(0)} y2={py(0)} class="baseline" />
    </svg>
  );
}

/** The rows of a stats answer as a table; empty group values read (none). */
export function StatsTable({ rows }: { rows: Row[] }) {
  useTimeZone();
  if (!rows.length) return <div class="empty small-empty muted">No rows</div>;
  const cols = Object.keys(rows[0]);
  const { groups } = columnsOf(rows);
  return (
    <table class="grid-table stats-table">
      <thead>
        <tr>
          {cols.map((c) => (
            <th key={c} class={typeof rows[0][c] === 'number' ? 'num' : ''}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {cols.map((c) => {
              const v = r[c] as unknown;
              if ((v === '' || v == null) && groups.includes(c)) {
                return (
                  <td key={c} class="mono none">
                    {NONE}
                  </td>
                );
              }
              return (
                <td key={c} class={'mono' + (typeof v === 'number' ? ' num' : '')}>
                  {c === '_time' && typeof v === 'string' ? fmtTime(Date.parse(v)) : v == null ? '' : String(v)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
