import { useEffect, useRef, useState } from 'preact/hooks';
import { PRESETS, fmtTime, parseShown, rangeLabel, resolveTime, setUTC, useTimeZone, zoneLabel } from './state';

// The time picker: quick presets, a relative range ("now-2h"), or absolute
// start and end times. It hands back bounds as the API reads them.

interface Props {
  from: string;
  to: string;
  onChange: (from: string, to: string) => void;
}

export function TimePicker({ from, to, onChange }: Props) {
  const [open, setOpen] = useState(false);
  const [absFrom, setAbsFrom] = useState('');
  const [absTo, setAbsTo] = useState('');
  const [rel, setRel] = useState('');
  const [err, setErr] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const utc = useTimeZone();

  useEffect(() => {
    if (!open) return;
    setAbsFrom(fmtTime(resolveTime(from)));
    setAbsTo(fmtTime(resolveTime(to, Date.now(), true)));
    setRel(from.startsWith('now-') && to === 'now' ? from.slice(4) : '');
    setErr('');
    const close = (e: MouseEvent) => box.current && !box.current.contains(e.target as Node) && setOpen(false);
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open, utc]);

  const pick = (f: string, t: string) => {
    setOpen(false);
    onChange(f, t);
  };
  const applyAbs = () => {
    const a = parseShown(absFrom);
    const b = parseShown(absTo);
    if (Number.isNaN(a) || Number.isNaN(b)) return setErr(`Use YYYY-MM-DD HH:MM:SS (${zoneLabel()})`);
    if (b <= a) return setErr('The end must be after the start');
    pick(new Date(a).toISOString(), new Date(b).toISOString());
  };
  const applyRel = () => {
    if (!/^\d+(s|m|h|d|w)$/.test(rel.trim())) return setErr('Use a number and a unit: 30m, 2h, 7d');
    pick('now-' + rel.trim(), 'now');
  };

  return (
    <div class="timepicker" ref={box}>
      <button class="btn tp-button" aria-haspopup="dialog" aria-expanded={open} onClick={() => setOpen(!open)}>
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <circle cx="10" cy="10" r="7.5" fill="none" stroke="currentColor" stroke-width="1.8" />
          <path d="M10 5.5V10l3 2" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
        </svg>
        <span class="tp-label">{rangeLabel(from, to)}</span>
      </button>
      {open && (
        <div class="tp-pop" role="dialog" aria-label="Time range">
          <div class="tp-presets">
            <div class="tp-title">Quick ranges</div>
            {PRESETS.map((p) => (
              <button key={p.from} class={'tp-preset' + (p.from === from && to === 'now' ? ' on' : '')} onClick={() => pick(p.from, 'now')}>
                {p.label}
              </button>
            ))}
          </div>
          <div class="tp-custom">
            <div class="tp-title">Relative</div>
            <div class="tp-row">
              <span class="tp-pre">Last</span>
              <input class="input mono" value={rel} placeholder="2h" onInput={(e) => setRel(e.currentTarget.value)} onKeyDown={(e) => e.key === 'Enter' && applyRel()} aria-label="Relative range" />
              <button class="btn" onClick={applyRel}>
                Apply
              </button>
            </div>
            <div class="tp-title">Absolute ({zoneLabel()})</div>
            <label class="tp-field">
              From
              <input class="input mono" value={absFrom} onInput={(e) => setAbsFrom(e.currentTarget.value)} aria-label="From" />
            </label>
            <label class="tp-field">
              To
              <input class="input mono" value={absTo} onInput={(e) => setAbsTo(e.currentTarget.value)} onKeyDown={(e) => e.key === 'Enter' && applyAbs()} aria-label="To" />
            </label>
            {err && <div class="tp-err">{err}</div>}
            <label class="tp-utc">
              <input type="checkbox" checked={utc} onChange={(e) => setUTC(e.currentTarget.checked)} aria-label="Show times in UTC" />
              Show times in UTC
            </label>
            <button class="btn primary" onClick={applyAbs}>
              Apply range
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
