import { useState, type FormEvent } from 'react';
import type { AuditEvent, RowFinding, VerifyReport } from '../api/types';
import type { PageProps } from '../App';
import { ErrorMessage, Notice, formatTime, show, useLoad } from '../components/ui';

const PAGE_SIZES = [10, 20, 50, 100] as const;
const FILTERS = [
  { name: 'correlation_id', label: 'Correlation id' },
  { name: 'user_id', label: 'User id' },
  { name: 'tenant_id', label: 'Tenant' },
  { name: 'route', label: 'Route id' },
  { name: 'status', label: 'Status', hint: 'e.g. 403 or 5xx' },
] as const;

type Filters = Record<(typeof FILTERS)[number]['name'] | 'decision' | 'from' | 'to', string>;
const EMPTY: Filters = { correlation_id: '', user_id: '', tenant_id: '', route: '', status: '', decision: '', from: '', to: '' };

/** datetime-local values are local time; the API wants an instant. */
const instant = (local: string) => (local ? new Date(local).toISOString() : '');

function query(filters: Filters): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) {
    const value = k === 'from' || k === 'to' ? instant(v) : v.trim();
    if (value) q.set(k, value);
  }
  return q;
}

function decisionText(e: AuditEvent): string {
  if (!e.decision) return '—';
  return e.decision.allow ? 'allowed' : 'denied';
}

/** Audit: search, a request's causal chain, export, and verification of the sealed log. */
export function AuditPage({ api }: PageProps) {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [pageSize, setPageSize] = useState<number>(20);
  const [applied, setApplied] = useState<Filters | null>(null);
  // Cursors of the pages seen so far: the first page has none.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ items: AuditEvent[]; next_cursor: string | null } | null>(null);
  const [error, setError] = useState<unknown>();
  const [chainOf, setChainOf] = useState<string | null>(null);

  const load = async (f: Filters, cursor: string | null) => {
    setError(undefined);
    const q = query(f);
    q.set('limit', String(pageSize));
    if (cursor) q.set('cursor', cursor);
    try {
      setPage(await api.json(`${api.auditBase}/events?${q}`));
    } catch (err) {
      setError(err);
      setPage(null);
    }
  };
  const search = (e: FormEvent) => {
    e.preventDefault();
    setApplied(filters);
    setCursors([null]);
    void load(filters, null);
  };
  const next = () => {
    if (!applied || !page?.next_cursor) return;
    setCursors((c) => [...c, page.next_cursor]);
    void load(applied, page.next_cursor);
  };
  const previous = () => {
    if (!applied || cursors.length < 2) return;
    const back = cursors.slice(0, -1);
    setCursors(back);
    void load(applied, back[back.length - 1] ?? null);
  };

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <form className="filters" onSubmit={search} aria-label="Search audit events">
        {FILTERS.map((f) => (
          <div className="field" key={f.name}>
            <label htmlFor={`audit-${f.name}`}>{f.label}</label>
            <input id={`audit-${f.name}`} value={filters[f.name]} onChange={(e) => setFilters({ ...filters, [f.name]: e.target.value })} placeholder={'hint' in f ? f.hint : ''} />
          </div>
        ))}
        <div className="field">
          <label htmlFor="audit-decision">Decision</label>
          <select id="audit-decision" value={filters.decision} onChange={(e) => setFilters({ ...filters, decision: e.target.value })}>
            <option value="">any</option>
            <option value="allow">allowed</option>
            <option value="deny">denied</option>
            <option value="none">no decision</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-from">From</label>
          <input id="audit-from" type="datetime-local" step="1" value={filters.from} onChange={(e) => setFilters({ ...filters, from: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="audit-to">To</label>
          <input id="audit-to" type="datetime-local" step="1" value={filters.to} onChange={(e) => setFilters({ ...filters, to: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="audit-page-size">Per page</label>
          <select id="audit-page-size" value={pageSize} onChange={(e) => setPageSize(Number(e.target.value))}>
            {PAGE_SIZES.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div className="actions">
          <button type="submit" className="primary">
            Search
          </button>
          <button type="button" onClick={() => setFilters(EMPTY)}>
            Clear
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {page && (
        <>
          <div className="table-wrap">
            <table className="stack">
              <caption>
                Events, newest first (page {cursors.length}, {page.items.length} shown)
              </caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Category</th>
                  <th scope="col">Request</th>
                  <th scope="col">Route</th>
                  <th scope="col">Status</th>
                  <th scope="col">Decision</th>
                  <th scope="col">Tenant / user</th>
                  <th scope="col">Correlation id</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((e) => (
                  <tr key={e.event_id}>
                    <td data-label="Time" className="nowrap">{formatTime(e.occurred_at)}</td>
                    <td data-label="Category">{e.category}</td>
                    <td data-label="Request" className="wrap">
                      {e.method} {e.path}
                    </td>
                    <td data-label="Route">{show(e.route_id)}</td>
                    <td data-label="Status">{show(e.status)}</td>
                    <td data-label="Decision">{decisionText(e)}</td>
                    <td data-label="Tenant / user" className="wrap">
                      {show(e.tenant_id)} / {show(e.user_id)}
                    </td>
                    <td data-label="Correlation id">
                      <button type="button" className="link" onClick={() => setChainOf(e.correlation_id)} aria-label={`Show the chain of ${e.correlation_id}`}>
                        {e.correlation_id}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.items.length === 0 && <p>No events match.</p>}
          <div className="actions">
            <button type="button" onClick={previous} disabled={cursors.length < 2}>
              Newer
            </button>
            <button type="button" onClick={next} disabled={!page.next_cursor}>
              Older
            </button>
          </div>
        </>
      )}
      {chainOf && <Chain api={api} correlationId={chainOf} onClose={() => setChainOf(null)} />}
      <Export api={api} filters={applied ?? filters} />
      <Verify api={api} />
    </section>
  );
}

function Chain({ api, correlationId, onClose }: { api: PageProps['api']; correlationId: string; onClose: () => void }) {
  const chain = useLoad(
    (signal) => api.json<{ events: AuditEvent[]; truncated: boolean }>(`${api.auditBase}/traces/${encodeURIComponent(correlationId)}`, { signal }),
    [correlationId],
  );
  const state = { events: chain.data?.events, truncated: chain.data?.truncated, error: chain.error };
  const events = state?.events ?? [];
  const start = events.length ? Date.parse(events[0]!.occurred_at) : 0;
  return (
    <section className="card chain" aria-labelledby="chain-title">
      <div className="page-head">
        <h2 id="chain-title">Causal chain of {correlationId}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorMessage error={state?.error} />
      {state?.truncated && <Notice>The chain is longer than shown.</Notice>}
      <ol className="timeline" aria-label="Events in causal order">
        {events.map((e) => (
          <li key={e.event_id} style={{ marginLeft: `${Math.min(e.depth ?? 0, 6) * 1.5}rem` }}>
            <span className="at">+{Date.parse(e.occurred_at) - start} ms</span> <strong>{e.category}</strong> {e.method} {e.path} → {show(e.status)}
            {e.route_id && <> · route {e.route_id}</>}
            {e.decision && (
              <>
                {' '}
                · {e.decision.allow ? 'allowed' : 'denied'}
                {e.decision.reasons?.length ? `: ${e.decision.reasons.join('; ')}` : ''}
              </>
            )}
            {e.error_code && <> · error {e.error_code}</>}
            {typeof e.duration_ms === 'number' && <> · {Math.round(e.duration_ms)} ms</>}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Export({ api, filters }: { api: PageProps['api']; filters: Filters }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const download = async (format: 'jsonl' | 'csv') => {
    setError(undefined);
    setBusy(true);
    try {
      const q = query(filters);
      q.set('format', format);
      // A plain link cannot carry the bearer token: fetch, then hand the browser the bytes.
      const blob = await (await api.raw(`${api.auditBase}/export?${q}`)).blob();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `audit-events.${format}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="export-title">
      <h2 id="export-title">Export</h2>
      <p className="hint">The events matching the search above, oldest first.</p>
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void download('jsonl')}>
          Download JSON lines
        </button>
        <button type="button" disabled={busy} onClick={() => void download('csv')}>
          Download CSV
        </button>
      </div>
      <ErrorMessage error={error} />
    </section>
  );
}

function ids(f: RowFinding): string {
  const listed = f.ids.join(', ');
  return f.count > f.ids.length ? `${listed} and ${f.count - f.ids.length} more` : listed;
}

/** Each finding of a verification, in words. */
export function findingsInWords(r: VerifyReport): string[] {
  const out: string[] = [];
  if (r.rows_modified.count)
    out.push(`${r.rows_modified.count} event(s) were modified after they were sealed: their content no longer matches the hash recorded when the interval was sealed. Event ids: ${ids(r.rows_modified)}.`);
  if (r.rows_deleted.count) out.push(`${r.rows_deleted.count} sealed event(s) were deleted: the seal lists them but the log no longer has them. Event ids: ${ids(r.rows_deleted)}.`);
  if (r.rows_inserted_after_sealing.count)
    out.push(`${r.rows_inserted_after_sealing.count} event(s) were inserted into an interval after it was sealed (backdated). Event ids: ${ids(r.rows_inserted_after_sealing)}.`);
  for (const n of r.broken_chain_links) out.push(`Seal ${n} does not link to the seal before it: the chain of seals was broken there (a seal replaced or removed).`);
  for (const n of r.bad_signatures) out.push(`Seal ${n} has a signature that does not verify with the published key: the seal itself was altered or forged.`);
  for (const n of r.altered_row_hashes ?? []) out.push(`The stored row hashes of seal ${n} were altered.`);
  return out;
}

function Verify({ api }: { api: PageProps['api'] }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [report, setReport] = useState<VerifyReport | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const verify = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setReport(null);
    try {
      const q = new URLSearchParams();
      if (from) q.set('from', instant(from));
      if (to) q.set('to', instant(to));
      setReport(await api.json<VerifyReport>(`${api.auditBase}/verify?${q}`));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const findings = report ? findingsInWords(report) : [];
  return (
    <section aria-labelledby="verify-title">
      <h2 id="verify-title">Verify the log</h2>
      <form className="inline-form" onSubmit={(e) => void verify(e)} aria-label="Verify a time range">
        <div className="field">
          <label htmlFor="verify-from">From</label>
          <input id="verify-from" type="datetime-local" step="1" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="verify-to">To</label>
          <input id="verify-to" type="datetime-local" step="1" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <button type="submit" className="primary" disabled={busy}>
          Verify
        </button>
      </form>
      <p className="hint">Empty: the last 24 hours.</p>
      <ErrorMessage error={error} />
      {report && (
        <div className={`card ${report.ok ? 'ok' : 'bad'}`} data-testid="verify-report">
          <p>
            <strong>{report.ok ? 'Intact.' : 'Tampering found.'}</strong> {report.rows_checked} sealed event(s) in {report.digests_checked} seal(s) checked between {formatTime(report.from)} and {formatTime(report.to)}.
            {report.unsealed_rows > 0 && ` ${report.unsealed_rows} newer event(s) are not sealed yet and cannot be verified.`}
          </p>
          {findings.length > 0 && (
            <ul className="findings">
              {findings.map((f) => (
                <li key={f}>{f}</li>
              ))}
            </ul>
          )}
          {(report.pruned_by_retention ?? []).length > 0 && <p>{report.pruned_by_retention!.reduce((n, p) => n + p.rows_pruned, 0)} event(s) were removed by the retention policy, as recorded in their seals (not tampering).</p>}
        </div>
      )}
    </section>
  );
}
