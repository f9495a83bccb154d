import { useEffect, useState } from 'preact/hooks';

// The discover page's state lives in the URL so that a link shows the same
// view: ?q=…&from=…&to=…&cols=a,b&group=field.

export interface ViewState {
  q: string;
  from: string;
  to: string;
  cols: string[];
  group: string;
  /** The chart of a stats answer: line, stacked, bar, table; '' chooses from the answer. */
  chart: string;
}

export const DEFAULT_FROM = 'now-15m';

export function readURL(): ViewState {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get('q') ?? '*',
    from: p.get('from') || DEFAULT_FROM,
    to: p.get('to') || 'now',
    cols: (p.get('cols') || '').split(',').filter(Boolean),
    group: p.get('group') || 'level',
    chart: p.get('chart') || '',
  };
}

export function writeURL(s: ViewState, push: boolean) {
  const p = new URLSearchParams();
  if (s.q && s.q !== '*') p.set('q', s.q);
  if (s.from !== DEFAULT_FROM) p.set('from', s.from);
  if (s.to !== 'now') p.set('to', s.to);
  if (s.cols.length) p.set('cols', s.cols.join(','));
  if (s.group !== 'level') p.set('group', s.group);
  if (s.chart) p.set('chart', s.chart);
  const url = location.pathname + (p.toString() ? '?' + p : '');
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** Resolves a time bound as the API reads it (now, now-1h, RFC 3339) to ms. */
export function resolveTime(s: string, now = Date.now()): number {
  if (s === 'now' || s === '') return now;
  const m = /^now-(\d+)(ms|s|m|h|d|w)$/.exec(s);
  if (m) return now - Number(m[1]) * (m[2] === 'ms' ? 1 : UNIT_MS[m[2]]);
  const t = Date.parse(s);
  return Number.isNaN(t) ? now : t;
}

export function isRelative(s: string): boolean {
  return s === 'now' || s.startsWith('now-');
}

const STEPS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400].map((s) => s * 1000);

/** The histogram's bucket width: about 60 to 120 buckets over the span. */
export function pickStep(spanMs: number): number {
  for (const s of STEPS) if (spanMs / s <= 100) return s;
  return 86400e3;
}

export function formatStep(ms: number): string {
  if (ms % 86400e3 === 0) return ms / 86400e3 + 'd';
  if (ms % 3600e3 === 0) return ms / 3600e3 + 'h';
  if (ms % 60e3 === 0) return ms / 60e3 + 'm';
  return ms / 1e3 + 's';
}

export const PRESETS: { label: string; from: string }[] = [
  { label: 'Last 5 minutes', from: 'now-5m' },
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last 1 hour', from: 'now-1h' },
  { label: 'Last 4 hours', from: 'now-4h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 7 days', from: 'now-7d' },
  { label: 'Last 30 days', from: 'now-30d' },
];

export function rangeLabel(from: string, to: string): string {
  if (to === 'now') {
    const p = PRESETS.find((x) => x.from === from);
    if (p) return p.label;
    if (from.startsWith('now-')) return 'Last ' + from.slice(4);
  }
  return `${fmtTime(resolveTime(from))} → ${fmtTime(resolveTime(to))}`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// Times show in the browser's time zone or in UTC, as the user chose (kept
// in local storage); every displayed time follows the choice.
let utc = localStorage.getItem('sluice.tz') === 'utc';

export function isUTC(): boolean {
  return utc;
}

/** Switches displayed times between local time and UTC. */
export function setUTC(on: boolean) {
  utc = on;
  localStorage.setItem('sluice.tz', on ? 'utc' : 'local');
  window.dispatchEvent(new Event('sluice-tz'));
}

/** The displayed time zone's name: UTC, or the local offset (UTC+01:00) and zone name. */
export function zoneLabel(short = false, at = Date.now()): string {
  if (utc) return 'UTC';
  const off = -new Date(at).getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  const o = `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  if (short) return o;
  return name && name !== 'UTC' && name !== 'Etc/UTC' ? `${o} ${name}` : off === 0 ? 'UTC (local)' : o;
}

/** Re-renders the caller when the time zone setting changes; returns whether it is UTC. */
export function useTimeZone(): boolean {
  const [, set] = useState(0);
  useEffect(() => {
    const on = () => set((n) => n + 1);
    window.addEventListener('sluice-tz', on);
    return () => window.removeEventListener('sluice-tz', on);
  }, []);
  return utc;
}

/** YYYY-MM-DD HH:MM:SS(.mmm), in local time or UTC as chosen. */
export function fmtTime(ms: number, millis = false): string {
  const d = new Date(ms);
  const s = utc
    ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return millis ? `${s}.${pad(d.getMilliseconds(), 3)}` : s;
}

/** Parses YYYY-MM-DD HH:MM:SS in the displayed time zone. */
export function parseShown(s: string): number {
  const t = s.trim().replace(' ', 'T');
  return Date.parse(utc && !/(Z|[+-]\d\d:?\d\d)$/.test(t) ? t + 'Z' : t);
}

export function fmtNum(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 record", "2 records": a count with its noun in the right number. */
export function fmtCount(n: number, noun: string): string {
  return fmtNum(n) + ' ' + (n === 1 ? noun : noun + 's');
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${units[i]}`;
}

export function levelOf(row: Record<string, string>): string {
  return (row.level ?? row.severity ?? row.lvl ?? row['log.level'] ?? '').toLowerCase();
}

/**
 * The colour class of a level: one per OpenTelemetry severity name (fatal,
 * error, warn, info, debug, trace), the other spellings with theirs
 * (warning → warn, crit → fatal, notice → info …), else other.
 */
export function levelClass(level: string): string {
  const l = level.toLowerCase();
  if (/^(fatal|crit|critical|panic|emerg|alert)/.test(l)) return 'fatal';
  if (/^(err|error|severe)/.test(l)) return 'error';
  if (/^warn/.test(l)) return 'warn';
  if (/^(info|notice|information)/.test(l)) return 'info';
  if (/^(debug|verbose)/.test(l)) return 'debug';
  if (/^trace/.test(l)) return 'trace';
  return 'other';
}

/** Goes to url inside the app: a history entry, and the pages follow (popstate). */
export function navigate(url: string) {
  history.pushState(null, '', url);
  window.dispatchEvent(new PopStateEvent('popstate'));
}
