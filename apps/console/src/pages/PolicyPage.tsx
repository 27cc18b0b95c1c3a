import { useState, type FormEvent } from 'react';
import { ADMIN } from '../api/client';
import type { PolicyEvaluation, PolicyInfo, Route } from '../api/types';
import type { PageProps } from '../App';
import { ErrorMessage, useLoad } from '../components/ui';

type SubjectDoc = Record<string, unknown>;

const person = (roles: string[], extra: SubjectDoc = {}): SubjectDoc => ({
  authenticated: true,
  sub: 'user-1',
  tenant_id: 'platform',
  client_id: 'operator-console',
  roles,
  is_governor: false,
  trial_mode: false,
  agent_id: null,
  ...extra,
});

/** Users to start from; the JSON stays editable. */
const PRESETS: Record<string, { label: string; subject: SubjectDoc }> = {
  admin: { label: 'An admin (not a governor)', subject: person(['admin']) },
  governor: { label: 'An operator who is a governor', subject: person(['operator'], { is_governor: true }) },
  viewer: { label: 'A viewer', subject: person(['viewer']) },
  trial: { label: "A trial customer (acme) with an agent", subject: person(['customer'], { tenant_id: 'acme', trial_mode: true, agent_id: 'agent-trial-001' }) },
  anonymous: { label: 'Nobody signed in', subject: { authenticated: false, sub: null, tenant_id: null, client_id: null, roles: [], is_governor: false, trial_mode: false, agent_id: null } },
};

/** Policy: what is loaded, and a playground that asks the same policy the gateway asks. */
export function PolicyPage({ api, me }: PageProps) {
  const info = useLoad((signal) => api.json<PolicyInfo>(`${ADMIN}/policy`, { signal }), []);
  const routes = useLoad((signal) => api.json<{ routes: Route[] }>(`${ADMIN}/routes`, { signal }), []);
  return (
    <section aria-labelledby="policy-title">
      <h1 id="policy-title">Policy</h1>
      <ErrorMessage error={info.error} />
      {info.data && (
        <>
          <dl className="facts">
            <dt>Mode</dt>
            <dd>{info.data.mode}</dd>
            <dt>Revision</dt>
            <dd data-testid="policy-revision">{info.data.revision ?? 'none'}</dd>
            <dt>Modules</dt>
            <dd>{info.data.modules.length}</dd>
          </dl>
          {info.data.modules.map((m) => (
            <details key={m.id}>
              <summary>
                <code>{m.path ?? m.id}</code>
              </summary>
              <pre className="code">{m.raw}</pre>
            </details>
          ))}
        </>
      )}
      {me.permissions.admin ? <Playground api={api} self={me.subject} routes={routes.data?.routes ?? []} routesError={routes.error} /> : <p className="hint">The playground is for admins.</p>}
    </section>
  );
}

function Playground({ api, self, routes, routesError }: { api: PageProps['api']; self: SubjectDoc; routes: Route[]; routesError: unknown }) {
  const presets: Record<string, { label: string; subject: SubjectDoc }> = { ...PRESETS, self: { label: 'You, as signed in now', subject: self } };
  const [routeId, setRouteId] = useState('');
  const [mode, setMode] = useState<'subject' | 'input'>('subject');
  const [preset, setPreset] = useState('admin');
  const [subject, setSubject] = useState(JSON.stringify(PRESETS.admin!.subject, null, 2));
  const [input, setInput] = useState('');
  const [method, setMethod] = useState('');
  const [path, setPath] = useState('');
  const [result, setResult] = useState<PolicyEvaluation | null>(null);
  const [error, setError] = useState<unknown>();
  const [jsonError, setJsonError] = useState<string | null>(null);

  const evaluate = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setJsonError(null);
    setResult(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(mode === 'subject' ? subject : input);
    } catch (err) {
      setJsonError(`The ${mode === 'subject' ? 'subject' : 'input'} is not valid JSON: ${(err as Error).message}`);
      return;
    }
    const body = mode === 'subject' ? { route_id: routeId, subject: parsed, ...(method ? { method } : {}), ...(path ? { path } : {}) } : { input: parsed };
    try {
      const r = await api.send<PolicyEvaluation>('POST', `${ADMIN}/policy/evaluate`, body);
      setResult(r);
      // The whole input as the gateway built it, to edit further.
      setInput(JSON.stringify(r.input, null, 2));
    } catch (err) {
      setError(err);
    }
  };

  const obligations = Object.entries(result?.result.obligations ?? {});
  return (
    <section aria-labelledby="playground-title">
      <h2 id="playground-title">Playground</h2>
      <form onSubmit={(e) => void evaluate(e)} aria-label="Evaluate a decision">
        <fieldset>
          <legend>What to edit</legend>
          <label className="check">
            <input type="radio" name="mode" checked={mode === 'subject'} onChange={() => setMode('subject')} /> A route and a subject
          </label>
          <label className="check">
            <input type="radio" name="mode" checked={mode === 'input'} onChange={() => setMode('input')} /> The whole input document
          </label>
        </fieldset>
        {mode === 'subject' ? (
          <>
            <ErrorMessage error={routesError} />
            <div className="grid">
              <div className="field">
                <label htmlFor="pg-route">Route</label>
                <select id="pg-route" value={routeId} onChange={(e) => setRouteId(e.target.value)} required>
                  <option value="">choose…</option>
                  {routes.map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.id} ({r.methods.join(' ') || 'any'} {r.path})
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor="pg-method">Method</label>
                <input id="pg-method" value={method} onChange={(e) => setMethod(e.target.value.toUpperCase())} placeholder="the route's first" />
              </div>
              <div className="field">
                <label htmlFor="pg-path">Path</label>
                <input id="pg-path" value={path} onChange={(e) => setPath(e.target.value)} placeholder="the route's template" />
              </div>
            </div>
            <div className="field">
              <label htmlFor="pg-preset">Start from a user</label>
              <select
                id="pg-preset"
                value={preset}
                onChange={(e) => {
                  setPreset(e.target.value);
                  setSubject(JSON.stringify((presets[e.target.value] ?? PRESETS.admin!).subject, null, 2));
                }}
              >
                {Object.entries(presets).map(([key, p]) => (
                  <option key={key} value={key}>
                    {p.label}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="pg-subject">Subject (JSON)</label>
              <textarea id="pg-subject" rows={10} value={subject} onChange={(e) => setSubject(e.target.value)} spellCheck={false} />
            </div>
          </>
        ) : (
          <div className="field">
            <label htmlFor="pg-input">Input document (JSON)</label>
            <textarea id="pg-input" rows={18} value={input} onChange={(e) => setInput(e.target.value)} spellCheck={false} placeholder="Evaluate a route and subject first to start from the gateway's input" />
          </div>
        )}
        {jsonError && (
          <p className="message error" role="alert">
            {jsonError}
          </p>
        )}
        <button type="submit" className="primary">
          Evaluate
        </button>
      </form>
      <ErrorMessage error={error} />
      {result && (
        <div className={`card decision ${result.result.allow ? 'ok' : 'bad'}`} data-testid="decision" role="status">
          <p className="verdict">{result.result.allow ? 'Allowed' : 'Denied'}</p>
          {result.result.policy && <p>Policy: {result.result.policy}</p>}
          <h3>Reasons</h3>
          {result.result.reasons?.length ? (
            <ul>
              {result.result.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          ) : (
            <p>None given.</p>
          )}
          <h3>Obligations</h3>
          {obligations.length ? (
            <ul>
              {obligations.map(([k, v]) => (
                <li key={k}>
                  {k}: {typeof v === 'string' ? v : JSON.stringify(v)}
                </li>
              ))}
            </ul>
          ) : (
            <p>None.</p>
          )}
        </div>
      )}
    </section>
  );
}
