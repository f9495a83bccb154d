import { useEffect, useState } from 'preact/hooks';
import { savedSearches, type SavedSearch } from './api';
import { Modal } from './modal';
import { rangeLabel } from './state';

// Saved searches: the current query and time range kept by the server
// under a name, shared by everyone of the tenant (/api/v1/saved_searches).
// Opening one puts its query and range in Discover.

interface Props {
  query: string;
  from: string;
  to: string;
  onOpen: (s: SavedSearch) => void;
  onClose: () => void;
}

export function SavedDialog({ query, from, to, onOpen, onClose }: Props) {
  const [list, setList] = useState<SavedSearch[] | null>(null);
  const [name, setName] = useState('');
  const [err, setErr] = useState('');
  const load = () =>
    savedSearches.list().then(
      (l) => setList(l),
      (e) => setErr(e.message),
    );
  useEffect(() => {
    load();
  }, []);
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await savedSearches.create({ name: name.trim(), query, from, to });
      setName('');
      setErr('');
      await load();
    } catch (e: any) {
      setErr(e.message);
    }
  };
  const remove = async (s: SavedSearch) => {
    try {
      await savedSearches.remove(s.id);
      await load();
    } catch (e: any) {
      setErr(e.message);
    }
  };
  const taken = list?.some((s) => s.name === name.trim());
  return (
    <Modal label="Saved searches" title="Saved searches" cls="saved" onClose={onClose}>
      <form class="pin-body" onSubmit={save}>
        <div class="small muted">
          This search: <span class="mono">{query}</span> · {rangeLabel(from, to)}
        </div>
        <div class="saved-save">
          <input class="input" value={name} placeholder="Name" onInput={(e) => setName(e.currentTarget.value)} aria-label="Saved search name" autoFocus />
          <button class="btn primary" type="submit" disabled={!name.trim()}>
            {taken ? 'Replace' : 'Save'}
          </button>
        </div>
        <div class="muted small">Saved searches are kept by the server and shared with everyone of this tenant; saving a name again replaces it.</div>
        {err && <div class="banner error">{err}</div>}
      </form>
      <div class="saved-list">
        {list === null ? (
          <div class="sb-empty shimmer">Loading…</div>
        ) : list.length === 0 ? (
          <div class="muted">No saved search yet.</div>
        ) : (
          <table class="grid-table" data-testid="saved-searches">
            <tbody>
              {list.map((s) => (
                <tr key={s.id}>
                  <td>
                    <button class="link" onClick={() => onOpen(s)} title="Open in Discover">
                      {s.name}
                    </button>
                  </td>
                  <td class="mono small">{s.query}</td>
                  <td class="small">{rangeLabel(s.from || 'now-15m', s.to || 'now')}</td>
                  <td>
                    <button class="btn small" onClick={() => remove(s)} aria-label={'Delete ' + s.name}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Modal>
  );
}
