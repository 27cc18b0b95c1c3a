import { useEffect, useMemo, useState } from 'react';
import { ADMIN } from '../api/client';
import type { Traffic, UpstreamHealth } from '../api/types';
import type { PageProps } from '../App';
import { Chart } from '../components/Chart';
import { ErrorMessage, formatTime } from '../components/ui';

const POLL_MS = 5000;

/** Reads `event: upstreams` messages of the gateway's health stream (fetch, for the Authorization header). */
function useHealthStream(api: PageProps['api']): { upstreams: UpstreamHealth[] | null; error: unknown; connected: boolean } {
  const [upstreams, setUpstreams] = useState<UpstreamHealth[] | null>(null);
  const [error, setError] = useState<unknown>();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const ac = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = async () => {
      try {
        const res = await api.raw(`${ADMIN}/health/stream`, { signal: ac.signal, headers: { accept: 'text/event-stream' } });
        setConnected(true);
        setError(undefined);
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
            let event = 'message';
            const data: string[] = [];
            for (const line of message.split(/\r?\n/)) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (event === 'upstreams' && data.length) setUpstreams(toList(JSON.parse(data.join('\n'))));
          }
        }
      } catch (err) {
        if (ac.signal.aborted) return;
        setError(err);
      }
      setConnected(false);
      // The stream ended or failed: reconnect after a pause, as EventSource would.
      if (!ac.signal.aborted) retry = setTimeout(() => void connect(), 3000);
    };
    void connect();
    return () => {
      ac.abort();
      clearTimeout(retry);
    };
  }, [api]);
  return { upstreams, error, connected };
}

/** The upstreams document as a list, whether it is an array, `{upstreams: [...]}` or keyed by origin. */
function toList(doc: unknown): UpstreamHealth[] {
  if (Array.isArray(doc)) return doc as UpstreamHealth[];
  if (doc && typeof doc === 'object') {
    const inner = (doc as { upstreams?: unknown }).upstreams;
    if (inner !== undefined) return toList(inner);
    return Object.entries(doc as Record<string, UpstreamHealth>).map(([origin, h]) => ({ origin, ...h }));
  }
  return [];
}

const stateOf = (u: UpstreamHealth) => String(u.state ?? u.status ?? 'unknown');

/** Health and traffic: live upstream states and the last minutes of the gateway's own metrics. */
export function HealthPage({ api }: PageProps) {
  const health = useHealthStream(api);
  const [traffic, setTraffic] = useState<Traffic | null>(null);
  const [trafficError, setTrafficError] = useState<unknown>();

  useEffect(() => {
    const ac = new AbortController();
    const poll = () =>
      api.json<Traffic>(`${ADMIN}/traffic?minutes=15`, { signal: ac.signal }).then(
        (t) => {
          setTraffic(t);
          setTrafficError(undefined);
        },
        (err: unknown) => !ac.signal.aborted && setTrafficError(err),
      );
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      ac.abort();
      clearInterval(timer);
    };
  }, [api]);

  const charts = useMemo(() => (traffic ? chartsOf(traffic) : null), [traffic]);
  return (
    <section aria-labelledby="health-title">
      <h1 id="health-title">Health &amp; traffic</h1>
      <h2>Upstreams</h2>
      <p className="hint" aria-live="polite">
        {health.connected ? 'Live: states update as the gateway probes.' : 'Connecting to the live health stream…'}
      </p>
      <ErrorMessage error={health.error} />
      {health.upstreams && (
        <div className="table-wrap">
          <table aria-live="polite">
            <caption>Each upstream as the gateway's health checks see it</caption>
            <thead>
              <tr>
                <th scope="col">Upstream</th>
                <th scope="col">State</th>
                <th scope="col">Last check</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {health.upstreams.map((u) => {
                const origin = String(u.origin ?? u.url ?? '?');
                return (
                  <tr key={origin} data-upstream={origin}>
                    <th scope="row">{origin}</th>
                    <td>
                      <span className={`badge ${stateOf(u)}`} data-testid="upstream-state">
                        {stateOf(u)}
                      </span>
                    </td>
                    <td>{formatTime((u.last_checked ?? null) as string | null)}</td>
                    <td className="wrap">{u.last_error ?? '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <h2>Traffic, last 15 minutes</h2>
      <ErrorMessage error={trafficError} />
      {charts && (
        <div className="charts">
          <Chart title="Requests by route" x={charts.x} series={charts.byRoute} />
          <Chart title="Requests by status" x={charts.x} series={charts.byStatus} />
          <Chart title="Latency (ms)" x={charts.x} series={charts.latency} />
          <Chart title="Policy decisions" x={charts.x} series={charts.decisions} />
          <Chart title="429s and dropped audit events" x={charts.x} series={charts.drops} />
        </div>
      )}
    </section>
  );
}

function chartsOf(t: Traffic) {
  const x = t.points.map((p) => Math.floor(Date.parse(p.at) / 1000));
  const routes = [...new Set(t.points.flatMap((p) => Object.keys(p.requests)))].sort();
  const statuses = [...new Set(t.points.flatMap((p) => Object.values(p.requests).flatMap((s) => Object.keys(s))))].sort();
  const sum = (o: Record<string, number> | undefined) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  // The busiest routes get their own line; the rest share one, so the legend stays readable.
  const top = routes.map((r) => ({ r, n: t.points.reduce((a, p) => a + sum(p.requests[r]), 0) })).sort((a, b) => b.n - a.n);
  const shown = top.slice(0, 6).map((e) => e.r);
  const rest = routes.filter((r) => !shown.includes(r));
  const byRoute = shown.map((r) => ({ label: r, values: t.points.map((p) => sum(p.requests[r])) }));
  if (rest.length) byRoute.push({ label: `${rest.length} other routes`, values: t.points.map((p) => rest.reduce((a, r) => a + sum(p.requests[r]), 0)) });
  const byStatus = statuses.map((s) => ({ label: s, values: t.points.map((p) => Object.values(p.requests).reduce((a, st) => a + (st[s] ?? 0), 0)) }));
  return {
    x,
    byRoute: byRoute.length ? byRoute : [{ label: 'requests', values: t.points.map(() => 0) }],
    byStatus: byStatus.length ? byStatus : [{ label: 'requests', values: t.points.map(() => 0) }],
    latency: [
      { label: 'p50', values: t.points.map((p) => p.latency_ms.p50) },
      { label: 'p99', values: t.points.map((p) => p.latency_ms.p99) },
    ],
    decisions: [
      { label: 'allow', values: t.points.map((p) => p.decisions.allow) },
      { label: 'deny', values: t.points.map((p) => p.decisions.deny) },
    ],
    drops: [
      { label: '429 rate limited', values: t.points.map((p) => p.rate_limited) },
      { label: 'audit dropped', values: t.points.map((p) => p.audit_dropped) },
    ],
  };
}
