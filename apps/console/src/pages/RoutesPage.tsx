import { useState } from 'react';
import { ADMIN } from '../api/client';
import type { Proposal, Route, RouteDiff, RouteVersion, RouteVersionWithRoutes } from '../api/types';
import type { PageProps } from '../App';
import { DiffView } from '../components/DiffView';
import { ConfirmDialog, ErrorMessage, Notice, formatTime, show, useLoad } from '../components/ui';
import { RouteForm } from './RouteForm';

function limits(r: Route): string {
  const parts: string[] = [];
  if (r.rate_limit?.per_minute) parts.push(`${r.rate_limit.per_minute}/min`);
  if (r.rate_limit?.per_hour) parts.push(`${r.rate_limit.per_hour}/h`);
  if (r.cost) parts.push(`cost ${r.cost}`);
  if (r.requires_governor) parts.push('governor');
  return parts.join(', ') || '—';
}

function RouteTable({ routes, caption, actions }: { routes: readonly Route[]; caption: string; actions?: (r: Route) => React.ReactNode }) {
  return (
    <div className="table-wrap">
      <table className="stack">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Route</th>
            <th scope="col">Host</th>
            <th scope="col">Path</th>
            <th scope="col">Methods</th>
            <th scope="col">Upstream</th>
            <th scope="col">Stages</th>
            <th scope="col">Limits</th>
            {actions && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {routes.map((r) => (
            <tr key={r.id} data-route={r.id}>
              <th scope="row">
                <code>{r.id}</code>
                {r.permission ? <div className="sub">{r.permission}</div> : <div className="sub">public</div>}
              </th>
              <td data-label="Host">{show(r.hosts)}</td>
              <td data-label="Path">
                <code>{r.path}</code>
              </td>
              <td data-label="Methods">{r.methods.length ? r.methods.join(' ') : 'any'}</td>
              <td data-label="Upstream" className="wrap">{r.upstream}</td>
              <td data-label="Stages">{r.stages.join(' ')}</td>
              <td data-label="Limits">{limits(r)}</td>
              {actions && (
                <td className="nowrap" data-label="Actions">
                  {actions(r)}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type Pending = { kind: 'activate'; version: number; diff: RouteDiff } | { kind: 'rollback'; target: number | null; diff: RouteDiff | null };

/** Routes: the live table, versions and their diffs, draft editing, activation, rollback, discovery. */
export function RoutesPage({ api, me }: PageProps) {
  const canChange = me.permissions.admin;
  const live = useLoad((signal) => api.json<{ version: number | null; routes: Route[] }>(`${ADMIN}/routes`, { signal }), []);
  const versions = useLoad((signal) => api.json<{ versions: RouteVersion[] }>(`${ADMIN}/versions?limit=100`, { signal }), []);
  const [draftNo, setDraftNo] = useState<number | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [actionError, setActionError] = useState<unknown>();
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Bumped by activations and rollbacks: panels that depend on the live version load again.
  const [generation, setGeneration] = useState(0);
  const refreshAll = () => {
    live.reload();
    versions.reload();
    setGeneration((g) => g + 1);
  };
  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setActionError(undefined);
    setDone(null);
    try {
      setDone(await what());
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const liveVersion = live.data?.version ?? null;
  const diffFromLive = (to: number) => (liveVersion === null ? Promise.resolve<RouteDiff>({ from: 0, to, added: [], removed: [], changed: [] }) : api.json<RouteDiff>(`${ADMIN}/versions/${liveVersion}/diff/${to}`));

  const askActivate = (version: number) =>
    void run(async () => {
      setPending({ kind: 'activate', version, diff: await diffFromLive(version) });
      return '';
    });
  const askRollback = () =>
    void run(async () => {
      const retired = await api.json<{ versions: RouteVersion[] }>(`${ADMIN}/versions?status=retired&limit=1000`);
      // The store rolls back to the version retired most recently.
      const target = [...retired.versions].sort((a, b) => (b.retired_at ?? '').localeCompare(a.retired_at ?? ''))[0]?.version ?? null;
      setPending({ kind: 'rollback', target, diff: target === null ? null : await diffFromLive(target) });
      return '';
    });
  const confirm = () =>
    void run(async () => {
      const p = pending;
      setPending(null);
      if (!p) return '';
      const result =
        p.kind === 'activate'
          ? await api.send<{ version: number; previous: number | null }>('POST', `${ADMIN}/versions/${p.version}/activate`)
          : await api.send<{ version: number; previous: number | null }>('POST', `${ADMIN}/rollback`);
      if (p.kind === 'activate' && draftNo === p.version) setDraftNo(null);
      refreshAll();
      return p.kind === 'activate' ? `Version ${result.version} is live (was ${result.previous ?? 'none'}).` : `Rolled back: version ${result.version} is live again (was ${result.previous ?? 'none'}).`;
    });

  return (
    <section aria-labelledby="routes-title">
      <div className="page-head">
        <h1 id="routes-title">Routes</h1>
        {canChange ? (
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void run(async () => {
              const draft = await api.send<RouteVersion>('POST', `${ADMIN}/versions`, { note: 'edited in the console' });
              setDraftNo(draft.version);
              versions.reload();
              return `Draft version ${draft.version} created from the live version.`;
            })}>
              New draft
            </button>
            <button type="button" disabled={busy} onClick={askRollback}>
              Roll back…
            </button>
          </div>
        ) : (
          <Notice>Read only: your role can view routes but not change them.</Notice>
        )}
      </div>
      <ErrorMessage error={actionError} />
      {done && <Notice>{done}</Notice>}

      <h2>Live version {liveVersion ?? ''}</h2>
      <ErrorMessage error={live.error} />
      {live.data && <RouteTable routes={live.data.routes} caption={`${live.data.routes.length} routes served now`} />}

      {draftNo !== null && canChange && <DraftEditor api={api} version={draftNo} onActivate={() => askActivate(draftNo)} onChanged={versions.reload} />}

      <VersionsPanel api={api} versions={versions.data?.versions ?? []} error={versions.error} canChange={canChange} onEdit={setDraftNo} onActivate={askActivate} />
      <ProposalsPanel api={api} canChange={canChange} onAccept={askActivate} generation={generation} />

      {pending && (
        <ConfirmDialog
          title={pending.kind === 'activate' ? `Activate version ${pending.version}?` : 'Roll back the live version?'}
          confirmLabel={pending.kind === 'activate' ? 'Activate' : 'Roll back'}
          onConfirm={confirm}
          onCancel={() => setPending(null)}
          busy={busy || (pending.kind === 'rollback' && pending.target === null)}
        >
          {pending.kind === 'rollback' && pending.target === null ? (
            <p>There is no earlier version to go back to.</p>
          ) : (
            <>
              <p>Every gateway replica will serve these changes within about a second:</p>
              {pending.diff && <DiffView diff={pending.diff} />}
            </>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}

function VersionsPanel(props: { api: PageProps['api']; versions: RouteVersion[]; error: unknown; canChange: boolean; onEdit: (v: number) => void; onActivate: (v: number) => void }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [diff, setDiff] = useState<RouteDiff | null>(null);
  const [error, setError] = useState<unknown>();
  const [shown, setShown] = useState(10);
  const compare = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setDiff(null);
    try {
      setDiff(await props.api.json<RouteDiff>(`${ADMIN}/versions/${from}/diff/${to}`));
    } catch (err) {
      setError(err);
    }
  };
  const options = props.versions.map((v) => (
    <option key={v.version} value={v.version}>
      {v.version} ({v.status})
    </option>
  ));
  return (
    <>
      <h2>Versions</h2>
      <ErrorMessage error={props.error} />
      <div className="table-wrap">
        <table className="stack">
          <caption>Newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Source</th>
              <th scope="col">Note</th>
              <th scope="col">Created</th>
              <th scope="col">Routes</th>
              {props.canChange && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {props.versions.slice(0, shown).map((v) => (
              <tr key={v.version} data-version={v.version}>
                <th scope="row">{v.version}</th>
                <td data-label="Status">
                  <span className={`badge ${v.status}`}>{v.status}</span>
                </td>
                <td data-label="Source">{v.source}</td>
                <td data-label="Note" className="wrap">{v.note || '—'}</td>
                <td data-label="Created">{formatTime(v.created_at)}</td>
                <td data-label="Routes">{v.route_count}</td>
                {props.canChange && (
                  <td data-label="Actions" className="nowrap">
                    {v.status === 'draft' && (
                      <>
                        <button type="button" onClick={() => props.onEdit(v.version)}>
                          Edit draft {v.version}
                        </button>{' '}
                        <button type="button" onClick={() => props.onActivate(v.version)}>
                          Activate…
                        </button>
                      </>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.versions.length > shown && (
        <button type="button" onClick={() => setShown((n) => n + 10)}>
          Show older versions
        </button>
      )}
      <form className="inline-form" onSubmit={(e) => void compare(e)} aria-label="Compare versions">
        <div className="field">
          <label htmlFor="diff-from">Compare version</label>
          <select id="diff-from" value={from} onChange={(e) => setFrom(e.target.value)} required>
            <option value="">choose…</option>
            {options}
          </select>
        </div>
        <div className="field">
          <label htmlFor="diff-to">with version</label>
          <select id="diff-to" value={to} onChange={(e) => setTo(e.target.value)} required>
            <option value="">choose…</option>
            {options}
          </select>
        </div>
        <button type="submit" disabled={!from || !to}>
          Show diff
        </button>
      </form>
      <ErrorMessage error={error} />
      {diff && <DiffView diff={diff} />}
    </>
  );
}

function DraftEditor(props: { api: PageProps['api']; version: number; onActivate: () => void; onChanged: () => void }) {
  const { api, version } = props;
  const draft = useLoad((signal) => api.json<RouteVersionWithRoutes>(`${ADMIN}/versions/${version}`, { signal }), [version]);
  const [editing, setEditing] = useState<Partial<Route> | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();

  const save = async (route: Record<string, unknown>) => {
    const id = String(route.id ?? '');
    await api.send('PUT', `${ADMIN}/versions/${version}/routes/${encodeURIComponent(id)}`, route);
    setEditing(undefined);
    draft.reload();
    props.onChanged();
  };
  const remove = async (id: string) => {
    setError(undefined);
    try {
      await api.send('DELETE', `${ADMIN}/versions/${version}/routes/${encodeURIComponent(id)}`);
      draft.reload();
      props.onChanged();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="draft-editor" aria-labelledby="draft-title">
      <div className="page-head">
        <h2 id="draft-title">Draft version {version}</h2>
        <div className="actions">
          <button type="button" onClick={() => setEditing(null)}>
            Add route
          </button>
          <button type="button" className="primary" onClick={props.onActivate}>
            Activate draft {version}…
          </button>
        </div>
      </div>
      <ErrorMessage error={draft.error ?? error} />
      {editing !== undefined && <RouteForm key={editing?.id ?? 'new'} route={editing} onSave={save} onCancel={() => setEditing(undefined)} />}
      {draft.data && (
        <RouteTable
          routes={draft.data.routes}
          caption={`${draft.data.routes.length} routes in the draft (not live until activated)`}
          actions={(r) => (
            <>
              <button type="button" onClick={() => setEditing(r)} aria-label={`Edit ${r.id}`}>
                Edit
              </button>{' '}
              <button type="button" onClick={() => void remove(r.id)} aria-label={`Delete ${r.id}`}>
                Delete
              </button>
            </>
          )}
        />
      )}
    </section>
  );
}

function ProposalsPanel(props: { api: PageProps['api']; canChange: boolean; onAccept: (v: number) => void; generation: number }) {
  const { api } = props;
  const proposals = useLoad((signal) => api.json<{ proposals: Proposal[] }>(`${ADMIN}/discovery/proposals`, { signal }), [props.generation]);
  const [error, setError] = useState<unknown>();
  const [note, setNote] = useState<string | null>(null);
  const act = async (what: () => Promise<string>) => {
    setError(undefined);
    setNote(null);
    try {
      setNote(await what());
      proposals.reload();
    } catch (err) {
      setError(err);
    }
  };
  const list = proposals.data?.proposals ?? [];
  return (
    <section aria-labelledby="proposals-title">
      <div className="page-head">
        <h2 id="proposals-title">Discovery proposals</h2>
        {props.canChange && (
          <button
            type="button"
            onClick={() =>
              void act(async () => {
                const r = await api.send<{ created: boolean; added: Route[] }>('POST', `${ADMIN}/discovery/run`);
                return r.added.length ? `Discovery found ${r.added.length} operation(s) no route covers${r.created ? '' : ' (already proposed)'}.` : 'Discovery found nothing new.';
              })
            }
          >
            Run discovery now
          </button>
        )}
      </div>
      <p className="hint">Operations the backends publish in their OpenAPI documents that no live route covers. Accepting activates the proposal; dropping removes a proposed route from it.</p>
      <ErrorMessage error={proposals.error ?? error} />
      {note && <Notice>{note}</Notice>}
      {proposals.data && list.length === 0 && <p>No proposals waiting.</p>}
      {list.map((p) => (
        <article key={p.version} className="card" aria-label={`Proposal version ${p.version}`}>
          <h3>
            Proposal (draft version {p.version}, {formatTime(p.created_at)})
          </h3>
          <ul>
            {p.added.map((r) => (
              <li key={r.id}>
                <code>{r.id}</code> {r.methods.join(' ') || 'any'} {r.path} → {r.upstream}{' '}
                {props.canChange && (
                  <button type="button" onClick={() => void act(async () => (await api.send('DELETE', `${ADMIN}/versions/${p.version}/routes/${encodeURIComponent(r.id)}`), `Dropped ${r.id} from the proposal.`))}>
                    Drop
                  </button>
                )}
              </li>
            ))}
          </ul>
          {props.canChange && (
            <button type="button" className="primary" onClick={() => props.onAccept(p.version)}>
              Accept proposal {p.version}…
            </button>
          )}
        </article>
      ))}
    </section>
  );
}
