// A tokenizer of the query language (docs/query.md) for highlighting and
// autocomplete. It never rejects input: the server's parser is the judge,
// and its errors are shown at the position it reports.

export type TokKind = 'field' | 'op' | 'str' | 'num' | 'word' | 'punct' | 'pipe' | 'kw' | 'space';

export interface Tok {
  kind: TokKind;
  text: string;
  start: number;
}

const OPS = new Set(['and', 'or', 'not', 'to']);
const PIPE_KW = new Set(['stats', 'sort', 'limit', 'head', 'by', 'as', 'asc', 'desc', 'count', 'count_uniq', 'sum', 'avg', 'min', 'max', 'fields', 'filter']);
const FIELD_CH = /[\p{L}\p{N}_.\-@]/u;

export function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let inPipes = false;
  while (i < src.length) {
    const c = src[i];
    const start = i;
    if (/\s/.test(c)) {
      while (i < src.length && /\s/.test(src[i])) i++;
      out.push({ kind: 'space', text: src.slice(start, i), start });
      continue;
    }
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, src.length);
      out.push({ kind: 'str', text: src.slice(start, i), start });
      continue;
    }
    if (c === '|') {
      inPipes = true;
      out.push({ kind: 'pipe', text: c, start });
      i++;
      continue;
    }
    if ('()[]{},:-><=*'.includes(c)) {
      let j = i + 1;
      if ((c === '>' || c === '<') && src[j] === '=') j++;
      out.push({ kind: 'punct', text: src.slice(i, j), start });
      i = j;
      continue;
    }
    while (i < src.length && FIELD_CH.test(src[i])) i++;
    if (i === start) i++; // a character the language does not know
    const text = src.slice(start, i);
    let kind: TokKind = 'word';
    if (src[i] === ':') kind = 'field';
    else if (OPS.has(text.toLowerCase())) kind = 'op';
    else if (/^-?\d+(\.\d+)?$/.test(text)) kind = 'num';
    else if (inPipes && PIPE_KW.has(text.toLowerCase())) kind = 'kw';
    out.push({ kind, text, start });
  }
  return out;
}

/** The filter part of a query: everything before the first pipe. */
export function filterPart(q: string): string {
  const pipe = tokenize(q).find((t) => t.kind === 'pipe');
  const f = (pipe ? q.slice(0, pipe.start) : q).trim();
  return f || '*';
}

/** Quotes a value when the language needs it. */
export function quote(v: string): string {
  if (/^[\p{L}\p{N}_.\-@]+$/u.test(v) && !OPS.has(v.toLowerCase()) && !v.startsWith('-')) return v;
  return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

export function quoteField(f: string): string {
  return /^[\p{L}\p{N}_.\-@]+$/u.test(f) ? f : quote(f);
}

/** Adds `field:value` (or its negation) to a query's filter, keeping pipes. */
export function addFilter(q: string, field: string, value: string, exclude: boolean): string {
  const term = (exclude ? '-' : '') + quoteField(field) + ':' + (value === '' ? '""' : quote(value));
  const f = filterPart(q);
  const pipe = tokenize(q).find((t) => t.kind === 'pipe');
  const pipes = pipe ? q.slice(pipe.start).trim() : '';
  const base = f === '*' ? term : `${/\sor\s/i.test(f) ? `(${f})` : f} ${term}`;
  return pipes ? `${base} ${pipes}` : base;
}

/** The word under the cursor, for autocomplete: a field name, or field:value. */
export function wordAt(q: string, pos: number): { start: number; end: number; field?: string; prefix: string } {
  let start = pos;
  while (start > 0 && /[^\s()|,]/.test(q[start - 1])) start--;
  let end = pos;
  while (end < q.length && /[^\s()|,]/.test(q[end])) end++;
  const word = q.slice(start, pos);
  const neg = word.startsWith('-') ? 1 : 0;
  const colon = word.indexOf(':');
  if (colon > 0) {
    return { start: start + colon + 1, end, field: word.slice(neg, colon), prefix: word.slice(colon + 1).replace(/^"/, '') };
  }
  return { start: start + neg, end, prefix: word.slice(neg) };
}
