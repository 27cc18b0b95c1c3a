import { useEffect, useMemo, useState } from 'react';
import { Api, ADMIN } from './api/client';
import type { Me } from './api/types';
import type { Session } from './auth/session';
import { BASE_PATH } from './config';
import { ErrorMessage, Notice, useLoad } from './components/ui';
import { RoutesPage } from './pages/RoutesPage';
import { HealthPage } from './pages/HealthPage';
import { PolicyPage } from './pages/PolicyPage';
import { AuditPage } from './pages/AuditPage';

const PAGES = [
  { path: '/routes', label: 'Routes' },
  { path: '/health', label: 'Health & traffic' },
  { path: '/policy', label: 'Policy' },
  { path: '/audit', label: 'Audit' },
] as const;

type PagePath = (typeof PAGES)[number]['path'];

function currentPage(): PagePath {
  const rest = location.pathname.slice(BASE_PATH.length) || '/';
  return PAGES.find((p) => rest.startsWith(p.path))?.path ?? '/routes';
}

export interface PageProps {
  readonly api: Api;
  readonly me: Me;
}

/** The signed-in console: navigation, who is signed in, the current page. */
export function App({ session }: { session: Session }) {
  const api = useMemo(() => new Api(session), [session]);
  const [page, setPage] = useState<PagePath>(currentPage);
  const me = useLoad((signal) => api.json<Me>(`${ADMIN}/me`, { signal }), [api]);

  useEffect(() => {
    const onPop = () => setPage(currentPage());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    document.title = `${PAGES.find((p) => p.path === page)?.label ?? ''} · Cloud Stack console`;
  }, [page]);

  const go = (path: PagePath) => (e: React.MouseEvent) => {
    e.preventDefault();
    history.pushState(null, '', `${BASE_PATH}${path}`);
    setPage(path);
  };

  const subject = me.data?.subject;
  return (
    <div className="app">
      <header className="top">
        <a className="skip" href="#main">
          Skip to content
        </a>
        <span className="brand">Cloud Stack console</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`${BASE_PATH}${p.path}`} onClick={go(p.path)} aria-current={page === p.path ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {subject && (
            <span data-testid="who">
              {session.email ?? subject.sub} · {subject.tenant_id} · {subject.roles[0] ?? 'no role'}
              {me.data?.permissions.admin ? ' (can change)' : me.data?.permissions.read ? ' (read only)' : ''}
            </span>
          )}
          <button type="button" onClick={() => void session.signOut().then(() => location.assign(`${BASE_PATH}/`))}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorMessage error={me.error} />
        {me.data && !me.data.permissions.read && page !== '/audit' && (
          <Notice>Your role may not view the gateway&apos;s routes, health or policy (that needs route:read: owner, admin or operator). The Audit page shows what your role may audit.</Notice>
        )}
        {me.data?.permissions.read && page === '/routes' && <RoutesPage api={api} me={me.data} />}
        {me.data?.permissions.read && page === '/health' && <HealthPage api={api} me={me.data} />}
        {me.data?.permissions.read && page === '/policy' && <PolicyPage api={api} me={me.data} />}
        {me.data && page === '/audit' && <AuditPage api={api} me={me.data} />}
      </main>
    </div>
  );
}
