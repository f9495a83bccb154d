import { useEffect, useRef, useState } from 'preact/hooks';
import type { Row } from './api';
import { CheckIcon, ColumnIcon, CopyIcon, MinusIcon, PlusIcon } from './icons';
import { fmtTime, levelClass, levelOf, setUTC, useTimeZone, zoneLabel, copyText } from './state';

// The results table: time, level, stream, message and the chosen columns.
// It renders rows in pages of PAGE as the user scrolls (a million hits never
// become a million DOM nodes), and each row expands to its fields as a table
// and as JSON.

const PAGE = 100;

export interface TableActions {
  filter: (field: string, value: string, exclude: boolean) => void;
  toggleColumn: (field: string) => void;
  context: (row: Row) => void;
}

interface Props {
  rows: Row[];
  cols: string[];
  selected: number;
  setSelected: (i: number) => void;
  expanded: Set<number>;
  toggle: (i: number) => void;
  actions: TableActions;
  fresh: number; // how many rows at the top arrived by live tail
}

export function ResultsTable({ rows, cols, selected, setSelected, expanded, toggle, actions, fresh }: Props) {
  const [shown, setShown] = useState(PAGE);
  const sentinel = useRef<HTMLTableRowElement>(null);
  useEffect(() => setShown(PAGE), [rows.length === 0]);
  useEffect(() => {
    if (selected >= shown) setShown(selected + PAGE);
  }, [selected]);
  useEffect(() => {
    const el = sentinel.current;
    if (!el) return;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && setShown((n) => n + PAGE), { rootMargin: '600px' });
    io.observe(el);
    return () => io.disconnect();
  }, [shown, rows.length]);

  const visible = rows.slice(0, shown);
  const utc = useTimeZone();
  // Records without stream fields (from _bulk, or jsonline without
  // _stream_fields) have the stream {}: no column for nothing.
  const streams = visible.some((r) => streamLabel(r._stream) !== '');
  const span = 4 + (streams ? 1 : 0) + cols.length;
  return (
    <table class="results" aria-rowcount={rows.length}>
      <thead>
        <tr>
          <th class="c-exp" aria-label="Expand" />
          <th class="c-time">
            Time{' '}
            <button class="tz" data-testid="tz" title={utc ? 'Times in UTC: click for local time' : `Times in local time (${zoneLabel()}): click for UTC`} onClick={() => setUTC(!utc)}>
              {zoneLabel(true)}
            </button>
          </th>
          <th class="c-level">Level</th>
          {streams && <th class="c-stream">Stream</th>}
          {cols.map((c) => (
            <th key={c} class="c-extra">
              {c}
              <button class="th-x" title={`Remove column ${c}`} onClick={() => actions.toggleColumn(c)}>
                ×
              </button>
            </th>
          ))}
          <th class="c-msg">Message</th>
        </tr>
      </thead>
      <tbody>
        {visible.map((row, i) => {
          const lvl = levelOf(row);
          const open = expanded.has(i);
          return [
            <tr
              key={'r' + i}
              class={'row' + (i === selected ? ' selected' : '') + (open ? ' open' : '') + (i < fresh ? ' fresh' : '')}
              data-index={i}
              onClick={(e) => {
                if ((e.target as HTMLElement).closest('button')) return;
                if (window.getSelection()?.toString()) return;
                setSelected(i);
                toggle(i);
              }}
            >
              <td class="c-exp">
                <span class={'chev' + (open ? ' down' : '')} aria-hidden="true" />
              </td>
              <td class="c-time mono">{fmtTime(Date.parse(row._time), true)}</td>
              <td class="c-level">{lvl && <span class={'badge lv-' + levelClass(lvl)}>{lvl}</span>}</td>
              {streams && (
                <td class="c-stream mono" title={row._stream}>
                  {streamLabel(row._stream)}
                </td>
              )}
              {cols.map((c) => (
                <td key={c} class="c-extra mono">
                  {row[c] ?? ''}
                </td>
              ))}
              <td class="c-msg mono">
                {row._msg}
                <FieldSummary row={row} skip={cols} />
              </td>
            </tr>,
            open && (
              <tr key={'d' + i} class="detail">
                <td colSpan={span}>
                  <RowDetail row={row} cols={cols} actions={actions} />
                </td>
              </tr>
            ),
          ];
        })}
        {shown < rows.length && (
          <tr ref={sentinel} class="more">
            <td colSpan={span}>Showing {shown} of {rows.length}…</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** {host="a",service="b"} → a · b: the values say enough in a narrow cell. */
function streamLabel(s: string | undefined): string {
  if (!s || s === '{}') return '';
  const vals = [...s.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  return vals.length ? vals.join(' · ') : s;
}

const SUMMARY_SKIP = new Set(['_time', '_msg', '_stream', 'level']);
const SUMMARY_MAX = 16;

/** The row's other fields after its message, name and value, as Kibana's document column shows them. */
function FieldSummary({ row, skip }: { row: Row; skip: string[] }) {
  // The stream column shows the stream's fields already.
  const inStream = new Set([...(row._stream ?? '').matchAll(/([^{},="]+)="/g)].map((m) => m[1]));
  const fields = Object.entries(row).filter(([k, v]) => !SUMMARY_SKIP.has(k) && !inStream.has(k) && !skip.includes(k) && v !== '');
  if (!fields.length) return null;
  return (
    <span class="fsum" data-testid="field-summary">
      {fields.slice(0, SUMMARY_MAX).map(([k, v]) => (
        <span key={k} class="fs">
          <b>{k}</b> {typeof v === 'string' && v.length > 80 ? v.slice(0, 80) + '…' : String(v)}
        </span>
      ))}
    </span>
  );
}

function RowDetail({ row, cols, actions }: { row: Row; cols: string[]; actions: TableActions }) {
  const [tab, setTab] = useState<'table' | 'json'>('table');
  const [copied, setCopied] = useState('');
  const json = JSON.stringify(row, null, 2);
  const copy = async (text: string, what: string) => {
    await copyText(text);
    setCopied(what);
    setTimeout(() => setCopied(''), 1200);
  };
  return (
    <div class="row-detail">
      <div class="rd-bar">
        <div class="tabs" role="tablist">
          <button role="tab" aria-selected={tab === 'table'} class={tab === 'table' ? 'on' : ''} onClick={() => setTab('table')}>
            Fields
          </button>
          <button role="tab" aria-selected={tab === 'json'} class={tab === 'json' ? 'on' : ''} onClick={() => setTab('json')}>
            JSON
          </button>
        </div>
        <span class="spacer" />
        <button class="btn small" onClick={() => actions.context(row)}>
          Surrounding lines
        </button>
        <button class="btn small" onClick={() => copy(json, 'json')}>
          {copied === 'json' ? 'Copied ✓' : 'Copy JSON'}
        </button>
      </div>
      {tab === 'json' ? (
        <pre class="rd-json mono">{json}</pre>
      ) : (
        <table class="fields">
          <tbody>
            {Object.entries(row).map(([k, v]) => (
              <tr key={k}>
                <td class="f-actions">
                  <button class="icon" title={`Filter for ${k} = this value`} aria-label={`Filter for ${k}`} data-act="in" onClick={() => actions.filter(k, v, false)}>
                    <PlusIcon />
                  </button>
                  <button class="icon" title={`Filter out ${k} = this value`} aria-label={`Filter out ${k}`} data-act="out" onClick={() => actions.filter(k, v, true)}>
                    <MinusIcon />
                  </button>
                  <button class={'icon' + (cols.includes(k) ? ' on' : '')} title={cols.includes(k) ? 'Remove column' : 'Add as column'} onClick={() => actions.toggleColumn(k)}>
                    <ColumnIcon />
                  </button>
                  <button class="icon" title="Copy value" onClick={() => copy(v, k)}>
                    {copied === k ? <CheckIcon /> : <CopyIcon />}
                  </button>
                </td>
                <td class="f-name mono">{k}</td>
                <td class="f-val mono">{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
