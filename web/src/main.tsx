import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session, whoami, type Whoami } from './api';
import { navigate } from './state';
import { Discover } from './discover';
import { StatusPage } from './status';
import { DashboardsPage } from './dashboards';
import { AlertsPage } from './alerts';
import { FlowsPage } from './flows';
import './style.css';

// The shell: header with navigation and theme switch, and the page that the
// path names (/ or /ui/ is discover, /ui/status the status page).

type Page = 'discover' | 'status' | 'dashboards' | 'alerts' | 'flows';

const PATHS: Record<Page, string> = { discover: '/', status: '/ui/status', dashboards: '/ui/dashboards', alerts: '/ui/alerts', flows: '/ui/flows' };
const TITLES: Record<Page, string> = { discover: 'Discover · Sluice', status: 'Status · Sluice', dashboards: 'Dashboards · Sluice', alerts: 'Alerts · Sluice', flows: 'Flows · Sluice' };

function pageOf(): Page {
  const p = location.pathname.replace(/\/+$/, '');
  if (p.endsWith('/status')) return 'status';
  if (p.startsWith('/ui/dashboards')) return 'dashboards';
  if (p.startsWith('/ui/alerts')) return 'alerts';
  if (p.startsWith('/ui/flows')) return 'flows';
  return 'discover';
}

/** Asks for an API key when the server wants one (auth.enabled). */
function Login({ onDone }: { onDone: (me: Whoami) => void }) {
  const [key, setKey] = useState('');
  const [err, setErr] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    session.signOut();
    session.signIn(key.trim());
    try {
      const me = await whoami();
      if (!me) {
        session.signOut();
        setErr('This key is not valid: unknown, revoked, or mistyped.');
        return;
      }
      onDone(me);
    } catch (e: any) {
      session.signOut();
      setErr(e.message || String(e));
    }
  };
  return (
    <main class="login">
      <form class="login-box" onSubmit={submit}>
        <h1>Sign in to Sluice</h1>
        <p class="muted">This server asks for an API key (sluice keys create … --role query). It is kept in this browser tab only, until you sign out or close it.</p>
        <input type="password" autocomplete="off" placeholder="sluice_…" aria-label="API key" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} autoFocus />
        <button class="btn primary" type="submit" disabled={!key.trim()}>
          Sign in
        </button>
        {err && <div class="banner error">{err}</div>}
      </form>
    </main>
  );
}

/** Who is signed in, the tenant switcher when the key has several tenants, and sign out. */
function Account({ me, tenant, onTenant, onSignOut }: { me: Whoami; tenant: string; onTenant: (t: string) => void; onSignOut: () => void }) {
  const named = me.tenants.filter((t) => t !== '*');
  const any = me.tenants.includes('*');
  return (
    <span class="account">
      <span class="who" data-testid="signed-in">
        signed in as <b>{me.name}</b>
      </span>
      {any ? (
        <input class="tenant-pick" aria-label="Tenant" placeholder="default" value={tenant} onChange={(e) => onTenant((e.target as HTMLInputElement).value.trim())} />
      ) : (
        named.length > 1 && (
          <select class="tenant-pick" aria-label="Tenant" value={tenant || named[0]} onChange={(e) => onTenant((e.target as HTMLSelectElement).value)}>
            {named.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        )
      )}
      {!any && named.length === 1 && <span class="muted tenant-one">tenant {named[0]}</span>}
      <button class="btn" onClick={onSignOut}>
        Sign out
      </button>
    </span>
  );
}

function App() {
  // undefined: not known yet; null: the server wants a key.
  const [me, setMe] = useState<Whoami | null | undefined>(undefined);
  const [tenant, setTenantState] = useState(session.tenant);
  useEffect(() => {
    whoami().then(setMe, () => setMe({ auth: false, tenants: [], roles: [] }));
    const onUnauthorized = () => setMe(null);
    window.addEventListener('sluice-unauthorized', onUnauthorized);
    return () => window.removeEventListener('sluice-unauthorized', onUnauthorized);
  }, []);
  const setTenant = (t: string) => {
    session.setTenant(t);
    setTenantState(t);
  };
  const signOut = () => {
    session.signOut();
    setTenantState('');
    setMe(null);
  };
  if (me === undefined) return <div class="sb-empty shimmer">Loading…</div>;
  if (me === null) return <Login onDone={setMe} />;
  return <Shell me={me} tenant={tenant} onTenant={setTenant} onSignOut={signOut} />;
}

function Shell({ me, tenant, onTenant, onSignOut }: { me: Whoami; tenant: string; onTenant: (t: string) => void; onSignOut: () => void }) {
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
    if (page !== 'dashboards') document.title = TITLES[page]; // a dashboard names itself
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
    if (location.pathname + location.search === PATHS[p]) return;
    navigate(PATHS[p]);
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
          <a href="/ui/dashboards" class={page === 'dashboards' ? 'on' : ''} onClick={go('dashboards')}>
            Dashboards
          </a>
          <a href="/ui/alerts" class={page === 'alerts' ? 'on' : ''} onClick={go('alerts')}>
            Alerts
          </a>
          <a href="/ui/flows" class={page === 'flows' ? 'on' : ''} onClick={go('flows')}>
            Flows
          </a>
          <a href="/ui/status" class={page === 'status' ? 'on' : ''} onClick={go('status')}>
            Status
          </a>
        </nav>
        <span class="spacer" />
        {me.auth && <Account me={me} tenant={tenant} onTenant={onTenant} onSignOut={onSignOut} />}
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
      {page === 'status' ? <StatusPage key={tenant} /> : page === 'dashboards' ? <DashboardsPage key={tenant} /> : page === 'alerts' ? <AlertsPage key={tenant} /> : page === 'flows' ? <FlowsPage key={tenant} /> : <Discover key={tenant} liveOnStart={false} />}
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
