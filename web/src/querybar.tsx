import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FieldStat } from './api';
import { quote, tokenize, wordAt } from './lang';

// The query bar: a textarea over a highlighted copy of its text (the text
// area's own glyphs are transparent), with autocomplete of field names and
// values, the history of past searches, and the server's syntax error
// underlined at its position.

const HISTORY_KEY = 'sluice.history';

export function loadHistory(): string[] {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]');
  } catch {
    return [];
  }
}

export function remember(q: string) {
  if (!q.trim() || q.trim() === '*') return;
  const h = [q, ...loadHistory().filter((x) => x !== q)].slice(0, 50);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(h));
}

interface Suggestion {
  label: string;
  insert: string;
  start: number;
  end: number;
  kind: 'field' | 'value' | 'history' | 'op';
  hint?: string;
}

interface Props {
  value: string;
  onInput: (q: string) => void;
  onSubmit: (q: string) => void;
  fields: FieldStat[];
  error: { message: string; offset: number } | null;
  inputRef: { current: HTMLTextAreaElement | null };
}

export function QueryBar({ value, onInput, onSubmit, fields, error, inputRef }: Props) {
  const [cursor, setCursor] = useState(value.length);
  const [open, setOpen] = useState(false);
  const [sel, setSel] = useState(-1);
  const hlRef = useRef<HTMLDivElement>(null);

  const suggestions = useMemo(() => (open ? suggest(value, cursor, fields) : []), [open, value, cursor, fields]);
  useEffect(() => setSel(-1), [suggestions.length, value]);

  const accept = (s: Suggestion) => {
    const next = value.slice(0, s.start) + s.insert + value.slice(s.end);
    onInput(next);
    const pos = s.start + s.insert.length;
    setCursor(pos);
    requestAnimationFrame(() => {
      const el = inputRef.current;
      if (el) {
        el.focus();
        el.setSelectionRange(pos, pos);
      }
    });
    // A chosen field wants its value next; a chosen value or history is done.
    setOpen(s.kind === 'field');
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (open && suggestions.length) {
      // Nothing is selected until an arrow key says so: Enter runs the query.
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = suggestions.length;
        setSel(e.key === 'ArrowDown' ? (sel + 1) % n : (sel - 1 + n) % n);
        return;
      }
      const pick = e.key === 'Tab' ? Math.max(sel, 0) : e.key === 'Enter' && !e.shiftKey ? sel : -1;
      if (pick >= 0) {
        e.preventDefault();
        const s = suggestions[pick];
        accept(s);
        if (s.kind === 'history') onSubmit(s.insert);
        return;
      }
    }
    if (e.key === 'Escape') {
      if (open) setOpen(false);
      else (e.target as HTMLElement).blur();
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      setOpen(false);
      onSubmit(value);
      return;
    }
    if (e.key === 'ArrowDown' && !open) {
      setOpen(true);
    }
  };

  const sync = (el: HTMLTextAreaElement) => {
    setCursor(el.selectionStart ?? el.value.length);
    el.style.height = 'auto';
    el.style.height = el.scrollHeight + 'px';
    if (hlRef.current) hlRef.current.scrollTop = el.scrollTop;
  };
  useEffect(() => {
    if (inputRef.current) sync(inputRef.current);
  }, [value]);

  return (
    <div class={'querybar' + (error ? ' has-error' : '')}>
      <div class="qb-field">
        <svg class="qb-icon" viewBox="0 0 20 20" aria-hidden="true">
          <circle cx="8.5" cy="8.5" r="5.5" fill="none" stroke="currentColor" stroke-width="2" />
          <path d="M13 13l4.5 4.5" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
        </svg>
        <div class="qb-stack">
          <div class="qb-hl" ref={hlRef} aria-hidden="true">
            {highlight(value, error?.offset ?? -1)}
            {'\u200b'}
          </div>
          <textarea
            ref={inputRef}
            class="qb-input"
            rows={1}
            spellcheck={false}
            autocomplete="off"
            aria-label="Query"
            placeholder="Search… e.g. level:error AND service:payments"
            value={value}
            onInput={(e) => {
              const el = e.currentTarget;
              onInput(el.value);
              sync(el);
              setOpen(true);
            }}
            onKeyDown={onKeyDown}
            onKeyUp={(e) => setCursor(e.currentTarget.selectionStart ?? 0)}
            onClick={(e) => setCursor(e.currentTarget.selectionStart ?? 0)}
            onFocus={() => setOpen(true)}
            onBlur={() => setTimeout(() => setOpen(false), 150)}
          />
        </div>
      </div>
      {open && suggestions.length > 0 && (
        <ul class="qb-suggest" role="listbox">
          {suggestions.map((s, i) => (
            <li
              key={s.kind + s.label}
              role="option"
              aria-selected={i === sel}
              class={i === sel ? 'sel' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(s);
                if (s.kind === 'history') onSubmit(s.insert);
              }}
              onMouseEnter={() => setSel(i)}
            >
              <span class={'sg-kind sg-' + s.kind}>{s.kind === 'history' ? '↺' : s.kind === 'field' ? 'F' : s.kind === 'op' ? '&' : 'V'}</span>
              <span class="sg-label">{s.label}</span>
              {s.hint && <span class="sg-hint">{s.hint}</span>}
            </li>
          ))}
        </ul>
      )}
      {error && (
        <div class="qb-error" role="alert">
          <svg viewBox="0 0 20 20" aria-hidden="true">
            <circle cx="10" cy="10" r="8" fill="currentColor" />
            <path d="M10 5.5v5.5M10 13.8v.4" stroke="white" stroke-width="2" stroke-linecap="round" />
          </svg>
          {error.message}
        </div>
      )}
    </div>
  );
}

function highlight(q: string, errAt: number) {
  const out = tokenize(q).map((t) => {
    if (errAt >= t.start && errAt < t.start + t.text.length) {
      const k = errAt - t.start;
      return (
        <span class={'tk-' + t.kind}>
          {t.text.slice(0, k)}
          <span class="tk-err">{t.text[k]}</span>
          {t.text.slice(k + 1)}
        </span>
      );
    }
    return <span class={'tk-' + t.kind}>{t.text}</span>;
  });
  if (errAt >= q.length) out.push(<span class="tk-err tk-eol"> </span>);
  return out;
}

function suggest(q: string, cursor: number, fields: FieldStat[]): Suggestion[] {
  const w = wordAt(q, cursor);
  const out: Suggestion[] = [];
  if (w.field !== undefined) {
    const f = fields.find((x) => x.Name === w.field);
    const p = w.prefix.toLowerCase();
    for (const v of f?.Top ?? []) {
      if (p && !v.Value.toLowerCase().startsWith(p)) continue;
      out.push({ label: v.Value || '(empty)', insert: v.Value === '' ? '""' : quote(v.Value), start: w.start, end: w.end, kind: 'value', hint: String(v.Count) });
    }
    return out.slice(0, 10);
  }
  const p = w.prefix.toLowerCase();
  if (q.trim() === '' || q.trim() === '*' || cursor === 0) {
    for (const h of loadHistory().slice(0, 8)) out.push({ label: h, insert: h, start: 0, end: q.length, kind: 'history' });
  }
  if (p && p !== '*') {
    for (const h of loadHistory()) {
      if (h.toLowerCase().startsWith(q.toLowerCase()) && h !== q && out.length < 4)
        out.push({ label: h, insert: h, start: 0, end: q.length, kind: 'history' });
    }
    for (const op of ['AND', 'OR', 'NOT']) if (op.toLowerCase().startsWith(p) && p.length >= 2) out.push({ label: op, insert: op + ' ', start: w.start, end: w.end, kind: 'op' });
  }
  for (const f of fields) {
    if (p && p !== '*' && !f.Name.toLowerCase().includes(p)) continue;
    if (!p && q.trim() !== '' && q.trim() !== '*' && cursor !== q.length) continue;
    out.push({ label: f.Name, insert: f.Name + ':', start: w.start, end: w.end, kind: 'field', hint: String(f.Count) });
  }
  return out.slice(0, 12);
}
