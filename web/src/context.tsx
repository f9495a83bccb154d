import { useEffect, useRef, useState } from 'preact/hooks';
import { query, type Row } from './api';
import { quote } from './lang';
import { fmtTime, levelClass, levelOf } from './state';

// The context view: the lines just before and after a hit in its stream.
// It uses the query endpoint: the newest lines of the stream up to the hit,
// and the oldest of those in the minutes after it.

const AROUND = 15;
const AFTER_WINDOW_MS = 10 * 60e3;

export function ContextView({ row, onClose }: { row: Row; onClose: () => void }) {
  const [lines, setLines] = useState<{ row: Row; hit: boolean }[] | null>(null);
  const [err, setErr] = useState('');
  const hitRef = useRef<HTMLDivElement>(null);
  const dialog = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const ac = new AbortController();
    const q = row._stream ? `_stream:${quote(row._stream)}` : '*';
    const at = Date.parse(row._time);
    const key = JSON.stringify(row);
    const before: Row[] = [];
    const after: Row[] = [];
    Promise.all([
      query(q, { from: new Date(at - 24 * 3600e3).toISOString(), to: row._time }, AROUND + 5, ac.signal, (r) => before.push(r)),
      query(q, { from: row._time, to: new Date(Math.min(Date.now(), at + AFTER_WINDOW_MS) + 1).toISOString() }, 1000, ac.signal, (r) => after.push(r)),
    ])
      .then(() => {
        // Rows at the hit's own timestamp come in both answers.
        const seen = new Set<string>([key]);
        const uniq = (rs: Row[]) =>
          rs.filter((r) => {
            const k = JSON.stringify(r);
            if (seen.has(k)) return false;
            seen.add(k);
            return true;
          });
        const b = uniq(before).slice(0, AROUND).reverse();
        const a = uniq(after.reverse()).slice(0, AROUND);
        setLines([...b.map((r) => ({ row: r, hit: false })), { row, hit: true }, ...a.map((r) => ({ row: r, hit: false }))]);
      })
      .catch((e) => !ac.signal.aborted && setErr(e.message));
    dialog.current?.focus();
    return () => ac.abort();
  }, [row]);

  useEffect(() => hitRef.current?.scrollIntoView({ block: 'center' }), [lines]);

  return (
    <div class="modal-back" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-modal="true" aria-label="Surrounding lines" tabIndex={-1} ref={dialog} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <div class="modal-head">
          <div>
            <div class="modal-title">Surrounding lines</div>
            <div class="muted mono small">{row._stream}</div>
          </div>
          <button class="btn" onClick={onClose} aria-label="Close">
            Close
          </button>
        </div>
        <div class="ctx-lines">
          {err && <div class="banner error">{err}</div>}
          {!lines && !err && <div class="sb-empty shimmer">Loading…</div>}
          {lines?.map(({ row: r, hit }, i) => (
            <div key={i} class={'ctx-line mono' + (hit ? ' hit' : '')} ref={hit ? hitRef : undefined}>
              <span class="ctx-time">{fmtTime(Date.parse(r._time), true)}</span>
              <span class={'badge lv-' + levelClass(levelOf(r))}>{levelOf(r) || '—'}</span>
              <span class="ctx-msg">{r._msg}</span>
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
