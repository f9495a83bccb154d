import { useEffect, useRef, useState } from 'preact/hooks';
import { surroundings, type PartialAnswer, type Row } from './api';
import { PartialBanner } from './partial';
import { fmtTime, levelClass, levelOf } from './state';

// The context view: the AROUND records just before and after a hit in its
// stream, from one call to the server's POST /api/v1/context.

const AROUND = 15;

/** Whether rec is the hit: a table row may hold fewer fields than the record. */
function isHit(rec: Row, hit: Row): boolean {
  return Object.entries(hit).every(([k, v]) => rec[k] === v);
}

export function ContextView({ row, onClose }: { row: Row; onClose: () => void }) {
  const [lines, setLines] = useState<{ row: Row; hit: boolean }[] | null>(null);
  const [err, setErr] = useState('');
  const [partial, setPartial] = useState<PartialAnswer | null>(null);
  const hitRef = useRef<HTMLDivElement>(null);
  const dialog = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const ac = new AbortController();
    dialog.current?.focus();
    if (!row._stream || !row._time) {
      setErr('This row has no _stream or _time (a pipe dropped them), so its surrounding lines cannot be found.');
      return;
    }
    surroundings(row, AROUND, ac.signal)
      .then(({ before, at, after, partial }) => {
        setPartial(partial ?? null);
        // Records logged in the hit's own nanosecond come with it; the hit
        // is the one matching the row, or the row itself if none does.
        let hitAt = at.findIndex((r) => isHit(r, row));
        const same = hitAt >= 0 ? at : [row];
        if (hitAt < 0) hitAt = 0;
        const mark = (rs: Row[]) => rs.map((r) => ({ row: r, hit: false }));
        setLines([...mark(before), ...same.map((r, i) => ({ row: r, hit: i === hitAt })), ...mark(after)]);
      })
      .catch((e) => !ac.signal.aborted && setErr(e.message));
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
          {partial && <PartialBanner partial={partial} />}
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
