import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Discover } from './discover';
import { StatusPage } from './status';
import './style.css';

// The shell: header with navigation and theme switch, and the page that the
// path names (/ or /ui/ is discover, /ui/status the status page).

type Page = 'discover' | 'status';

const pageOf = (): Page => (location.pathname.replace(/\/+$/, '').endsWith('/status') ? 'status' : 'discover');

function App() {
  const [page, setPage] = useState<Page>(pageOf);
  const [theme, setTheme] = useState(document.documentElement.dataset.theme || 'light');
  const [help, setHelp] = useState(false);

  useEffect(() => {
    const onPop = () => setPage(pageOf());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.title = page === 'status' ? 'Status · Sluice' : 'Discover · Sluice';
  }, [theme, page]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).closest('input, textarea') || e.ctrlKey || e.metaKey) return;
      if (e.key === '?') setHelp((h) => !h);
      else if (e.key === 't') switchTheme();
      else if (e.key === 'Escape') setHelp(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const go = (p: Page) => (e: MouseEvent) => {
    e.preventDefault();
    if (p === page) return;
    history.pushState(null, '', p === 'status' ? '/ui/status' : '/');
    setPage(p);
  };
  const switchTheme = () => {
    const t = theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem('sluice.theme', t);
    setTheme(t);
  };

  return (
    <div class="app">
      <header class="topbar">
        <a class="brand" href="/" onClick={go('discover')}>
          <svg viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="var(--accent)" />
            <path d="M7 11h18M7 16h13M7 21h8" stroke="white" stroke-width="3" stroke-linecap="round" />
          </svg>
          Sluice
        </a>
        <nav>
          <a href="/" class={page === 'discover' ? 'on' : ''} onClick={go('discover')}>
            Discover
          </a>
          <a href="/ui/status" class={page === 'status' ? 'on' : ''} onClick={go('status')}>
            Status
          </a>
        </nav>
        <span class="spacer" />
        <button class="icon-btn" onClick={() => setHelp(!help)} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">
          ?
        </button>
        <button class="icon-btn" onClick={switchTheme} title="Switch theme (t)" aria-label="Switch theme">
          {theme === 'dark' ? (
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <circle cx="10" cy="10" r="4" fill="currentColor" />
              <path d="M10 1.5v2M10 16.5v2M1.5 10h2M16.5 10h2M4 4l1.4 1.4M14.6 14.6L16 16M4 16l1.4-1.4M14.6 5.4L16 4" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
            </svg>
          ) : (
            <svg viewBox="0 0 20 20" aria-hidden="true">
              <path d="M16.5 12.5A7 7 0 0 1 7.5 3.5a7 7 0 1 0 9 9z" fill="currentColor" />
            </svg>
          )}
        </button>
      </header>
      {page === 'status' ? <StatusPage /> : <Discover liveOnStart={false} />}
      {help && (
        <div class="modal-back" onMouseDown={(e) => e.target === e.currentTarget && setHelp(false)}>
          <div class="modal help" role="dialog" aria-label="Keyboard shortcuts">
            <div class="modal-head">
              <div class="modal-title">Keyboard shortcuts</div>
              <button class="btn" onClick={() => setHelp(false)}>
                Close
              </button>
            </div>
            <dl>
              {[
                ['/', 'Focus the query bar'],
                ['Enter', 'Run the query (Shift+Enter: new line)'],
                ['↑ ↓ Tab', 'Choose and accept a suggestion'],
                ['j / k', 'Next / previous row'],
                ['Enter / o', 'Expand or collapse the row'],
                ['c', 'Surrounding lines of the row'],
                ['l', 'Live tail on / off'],
                ['Space', 'Pause / resume live tail'],
                ['t', 'Light / dark theme'],
                ['Esc', 'Close'],
              ].map(([k, v]) => [<dt key={k}>{k.split(' ').map((x) => (x === '/' && k !== '/' ? ' / ' : <kbd>{x}</kbd>))}</dt>, <dd>{v}</dd>])}
            </dl>
          </div>
        </div>
      )}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
