import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtNum, fmtTime, isUTC, levelClass, useTimeZone } from './state';

// The histogram of hits over time, one stacked bar series per group (the
// level by default). Dragging across it selects a span and zooms to it.

export interface Histo {
  times: number[]; // bucket starts, ms
  step: number; // ms
  groups: { name: string; counts: number[] }[];
  total: number;
}

// One colour per severity (levelClass).
const PALETTE: Record<string, string> = {
  fatal: '#8e1d5a',
  error: '#e5484d',
  warn: '#f5a524',
  info: '#3e8ef7',
  debug: '#8b8d98',
  trace: '#b4a7d6',
};
const AXIS_FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const EXTRA = ['#30a46c', '#8e4ec6', '#12a594', '#d6409f', '#ad7f58', '#0090ff', '#e54666', '#978365'];

export function groupColor(name: string, i: number): string {
  const c = levelClass(name);
  return c !== 'other' ? PALETTE[c] : EXTRA[i % EXTRA.length];
}

interface Props {
  data: Histo | null;
  from: number;
  to: number;
  onZoom: (from: number, to: number) => void;
}

export function Histogram({ data, from, to, onZoom }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  // The canvas takes its colours from the theme: redraw when it changes.
  const [theme, setTheme] = useState(document.documentElement.dataset.theme);
  const utc = useTimeZone();
  useEffect(() => {
    const mo = new MutationObserver(() => setTheme(document.documentElement.dataset.theme));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => mo.disconnect();
  }, []);

  useEffect(() => {
    const el = ref.current!;
    if (!data) {
      plot.current?.destroy();
      plot.current = null;
      return;
    }
    const groups = data.groups;
    // uPlot does not stack: draw cumulative sums, the last group on top.
    const cum: number[][] = [];
    let acc = new Array(data.times.length).fill(0);
    for (const g of groups) {
      acc = acc.map((v, i) => v + g.counts[i]);
      cum.push(acc);
    }
    const xs = data.times.map((t) => t / 1000);
    const css = getComputedStyle(document.documentElement);
    const axis = css.getPropertyValue('--muted').trim() || '#888';
    const grid = css.getPropertyValue('--grid').trim() || '#eee';
    const bars = uPlot.paths.bars!({ size: [0.86, 60], align: 1 });
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height: 132,
      padding: [8, 8, 0, 12],
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      // Axis labels in the displayed time zone (local or UTC).
      tzDate: (ts) => (isUTC() ? uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') : new Date(ts * 1e3)),
      // From the first bucket's start to the end of the last one, so that
      // the newest bar (which starts before "to" and ends after it) shows whole.
      scales: { x: { time: true, range: () => [Math.min(from, data.times[0] ?? from) / 1000, Math.max(to, (data.times[data.times.length - 1] ?? to) + data.step) / 1000] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.08)] } },
      axes: [
        // 24-hour times as everywhere else in the UI (uPlot's default is 12-hour), with the date when the range spans days.
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font: AXIS_FONT, values: (_u, vs) => vs.map((v) => axisTime(v * 1000, to - from)) },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 44, font: AXIS_FONT, values: (_u, vs) => vs.map((v) => (Number.isInteger(v) ? fmtNum(v) : '')) },
      ],
      series: [
        {},
        ...groups
          .map((g, i) => ({
            label: g.name || '(none)',
            fill: groupColor(g.name, i),
            stroke: groupColor(g.name, i),
            width: 0,
            paths: bars,
            points: { show: false },
          }))
          .reverse(),
      ],
      hooks: {
        // Where the x axis ends, beside the newest bucket's end: the test checks that the bar fits.
        setScale: [(u, key) => void (key === 'x' && (el.dataset.xMax = String(Math.round(u.scales.x.max! * 1000))))],
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const a = u.posToVal(u.select.left, 'x') * 1000;
            const b = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            zoom.current(Math.round(a), Math.round(b));
          },
        ],
        setCursor: [
          (u) => {
            const tip = el.querySelector<HTMLDivElement>('.histo-tip')!;
            const i = u.cursor.idx;
            if (i == null || u.cursor.left! < 0) {
              tip.style.display = 'none';
              return;
            }
            const rows = groups
              .map((g, gi) => ({ g, gi, n: g.counts[i] }))
              .filter((r) => r.n > 0)
              .reverse()
              .map((r) => `<div><i style="background:${groupColor(r.g.name, r.gi)}"></i>${escapeHTML(r.g.name || '(none)')}<b>${fmtNum(r.n)}</b></div>`)
              .join('');
            const total = groups.reduce((s, g) => s + g.counts[i], 0);
            tip.innerHTML = `<div class="tip-time">${fmtTime(data.times[i])}</div>${rows}<div class="tip-total">Total<b>${fmtNum(total)}</b></div>`;
            tip.style.display = 'block';
            const x = u.cursor.left! + 56;
            tip.style.left = (x > el.clientWidth - 200 ? x - 200 : x + 12) + 'px';
          },
        ],
      },
    };
    const series = [xs, ...cum.slice().reverse()];
    plot.current?.destroy();
    plot.current = new uPlot(opts, series as uPlot.AlignedData, el.querySelector<HTMLDivElement>('.histo-plot')!);
    el.dataset.lastBucketEnd = String((data.times[data.times.length - 1] ?? 0) + data.step);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 132 }));
    ro.observe(el);
    return () => ro.disconnect();
  }, [data, from, to, theme, utc]);

  useEffect(() => () => plot.current?.destroy(), []);

  return (
    <div class="histo" ref={ref} data-total={data?.total ?? ''}>
      <div class="histo-plot" />
      <div class="histo-tip" />
      {data && data.groups.length > 0 && (
        <div class="histo-legend">
          {data.groups.map((g, i) => (
            <span key={g.name}>
              <i style={{ background: groupColor(g.name, i) }} />
              {g.name || '(none)'}
              <b>{fmtNum(g.counts.reduce((a, b) => a + b, 0))}</b>
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

/** HH:MM (HH:MM:SS under 10 minutes), MM-DD HH:MM over a day, in the displayed zone. */
function axisTime(ms: number, span: number): string {
  const t = fmtTime(ms);
  if (span > 86400e3) return t.slice(5, 16);
  return span < 600e3 ? t.slice(11, 19) : t.slice(11, 16);
}

function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
