import { useState } from 'preact/hooks';
import type { FieldStat } from './api';
import { MinusIcon, PlusIcon } from './icons';
import { fmtNum } from './state';

// The field sidebar: every field of the results with its top values and
// their share; a value filters in or out, a field groups the histogram or
// becomes a column.

interface Props {
  fields: FieldStat[];
  total: number;
  cols: string[];
  group: string;
  loading: boolean;
  onFilter: (field: string, value: string, exclude: boolean) => void;
  onColumn: (field: string) => void;
  onGroup: (field: string) => void;
}

const HIDDEN = new Set(['_time', '_msg']);

export function Sidebar({ fields, total, cols, group, loading, onFilter, onColumn, onGroup }: Props) {
  const [open, setOpen] = useState<string | null>(null);
  const [find, setFind] = useState('');
  const list = fields.filter((f) => !HIDDEN.has(f.Name) && f.Name.toLowerCase().includes(find.toLowerCase()));
  return (
    <aside class="sidebar" aria-label="Fields">
      <div class="sb-head">
        <span>Fields</span>
        <span class="count">{fields.length ? list.length : ''}</span>
      </div>
      <input class="sb-find" type="search" placeholder="Filter field names" value={find} onInput={(e) => setFind(e.currentTarget.value)} aria-label="Filter field names" />
      {loading && !fields.length && <div class="sb-empty shimmer">Loading fields…</div>}
      {!loading && !list.length && <div class="sb-empty">No fields</div>}
      <ul class="sb-list">
        {list.map((f) => {
          const isOpen = open === f.Name;
          const base = total || f.Count || 1;
          return (
            <li key={f.Name} class={isOpen ? 'open' : ''}>
              <button class="sb-field" aria-expanded={isOpen} onClick={() => setOpen(isOpen ? null : f.Name)}>
                <span class={'chev' + (isOpen ? ' down' : '')} aria-hidden="true" />
                <span class="sb-name mono">{f.Name}</span>
                {cols.includes(f.Name) && <span class="pill">column</span>}
                {group === f.Name && <span class="pill">grouped</span>}
                <span class="sb-cov" title={`${fmtNum(f.Count)} of ${fmtNum(base)} records have this field`}>
                  {pct(f.Count, base)}
                </span>
              </button>
              {isOpen && (
                <div class="sb-values">
                  <div class="sb-actions">
                    <button class="btn small" onClick={() => onColumn(f.Name)}>
                      {cols.includes(f.Name) ? 'Remove column' : 'Add column'}
                    </button>
                    <button class="btn small" disabled={group === f.Name} onClick={() => onGroup(f.Name)}>
                      Group histogram
                    </button>
                  </div>
                  {(f.Top ?? []).map((v) => (
                    <div class="sb-val" key={v.Value}>
                      <button class="sb-val-main" title={`Filter for ${f.Name}:${v.Value}`} data-field={f.Name} data-value={v.Value} onClick={() => onFilter(f.Name, v.Value, false)}>
                        <span class="sb-val-text mono">{v.Value === '' ? <em>(empty)</em> : v.Value}</span>
                        <span class="sb-share">{pct(v.Count, base)}</span>
                        <span class="bar" style={{ width: Math.max(1, (100 * v.Count) / base) + '%' }} />
                      </button>
                      <button class="icon" title="Filter for value" aria-label="Filter for value" onClick={() => onFilter(f.Name, v.Value, false)}>
                        <PlusIcon />
                      </button>
                      <button class="icon" title="Filter out value" aria-label="Filter out value" onClick={() => onFilter(f.Name, v.Value, true)}>
                        <MinusIcon />
                      </button>
                    </div>
                  ))}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}

function pct(n: number, of: number): string {
  const p = (100 * n) / of;
  return (p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + '%';
}
