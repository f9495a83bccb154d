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

/**
 * Resolves a time bound as the API reads it to ms: RFC 3339, or date math
 * as Elasticsearch and Grafana write it (now, now-1h, now+30m, now-1d/d,
 * now/w: internal/query/datemath.go, rounding in UTC). upper reads an upper
 * bound, whose rounding goes to the end of the unit (to=now/d: the end of
 * today), as the API reads "to".
 */
export function resolveTime(s: string, now = Date.now(), upper = false): number {
  if (s === '' || s === 'now') return now;
  if (s.startsWith('now')) return dateMath(s.slice(3), now, upper) ?? now;
  const t = Date.parse(s);
  return Number.isNaN(t) ? now : t;
}

function addUnit(d: Date, n: number, unit: string) {
  const fixed: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, H: 3600e3 };
  if (unit in fixed) d.setTime(d.getTime() + n * fixed[unit]);
  else if (unit === 'd' || unit === 'w') d.setUTCDate(d.getUTCDate() + n * (unit === 'w' ? 7 : 1));
  else if (unit === 'M') d.setUTCMonth(d.getUTCMonth() + n);
  else d.setUTCFullYear(d.getUTCFullYear() + n);
}

function dateMath(rest: string, now: number, upper: boolean): number | null {
  const d = new Date(now);
  const re = /^(?:([+-])(\d+)(ms|[smhHdwMy])|\/(ms|[smhHdwMy]))/;
  while (rest) {
    const m = re.exec(rest);
    if (!m) return null;
    rest = rest.slice(m[0].length);
    if (m[1]) {
      addUnit(d, (m[1] === '-' ? -1 : 1) * Number(m[2]), m[3]);
      continue;
    }
    const unit = m[4];
    const fixed: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, H: 3600e3 };
    if (unit in fixed) d.setTime(Math.floor(d.getTime() / fixed[unit]) * fixed[unit]);
    else {
      d.setUTCHours(0, 0, 0, 0);
      if (unit === 'w') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      if (unit === 'M' || unit === 'y') d.setUTCDate(1);
      if (unit === 'y') d.setUTCMonth(0);
    }
    if (upper) addUnit(d, 1, unit);
  }
  return d.getTime();
}

export function isRelative(s: string): boolean {
  return s.startsWith('now');
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
    if (/^now-\d+(ms|[smhdw])$/.test(from)) return 'Last ' + from.slice(4);
  }
  // Other date math reads best as written (now-1d/d → now/d).
  if (from.startsWith('now') && to.startsWith('now')) return `${from} → ${to}`;
  return `${fmtTime(resolveTime(from))} → ${fmtTime(resolveTime(to, Date.now(), true))}`;
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

/** Copies text to the clipboard (a hidden text area where the Clipboard API is not allowed: plain http). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
}
