/**
 * Route matching benchmark: `match()` over a 200-route table (four hosts of which one wildcard,
 * any-host routes, `{param}` segments, trailing `/*`), against one Map lookup of the same path
 * (the least any router can do) measured in the same rounds. Prints ns per match and the ratio,
 * then one JSON line.
 *
 *   npx tsx libs/gateway-routing/bench/match.ts     (BENCH_ROUNDS=5 BENCH_ITERATIONS=1000000)
 */
import { compileRoutes, RouteSpecSchema, type Route } from '../src/index';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1_000_000);

const routes: Route[] = [];
const requests: [string, string, string][] = [];
const hosts = [['api.example.com'], ['*.apps.example.com'], ['platformforge.example'], []];
for (let i = 0; i < 200; i++) {
  const hostSet = hosts[i % hosts.length]!;
  const shape = i % 4;
  const path =
    shape === 0 ? `/api/v1/svc${i}/items` : shape === 1 ? `/api/v1/svc${i}/items/{id}` : shape === 2 ? `/api/v1/svc${i}/items/{id}/actions/{action}` : `/api/v1/svc${i}/*`;
  routes.push(RouteSpecSchema.parse({ id: `r${i}`, path, hosts: hostSet, methods: shape === 3 ? [] : ['GET', 'POST'], upstream: 'http://up.test' }));
  const host = hostSet[0]?.replace('*', 'tenant-7') ?? 'anything.test';
  const reqPath = path.replace('{id}', 'agent-42').replace('{action}', 'execute').replace('*', 'deep/rest/of/path');
  requests.push(['GET', host, reqPath]);
}
requests.push(['GET', 'api.example.com', '/not/a/route'], ['DELETE', 'api.example.com', '/api/v1/svc0/items']);

const matcher = compileRoutes(routes, 1);
const baseline = new Map(requests.map(([, , p]) => [p, p]));

function time(fn: (i: number) => unknown): number {
  const start = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < ITERATIONS; i++) if (fn(i)) sink++;
  const ns = Number(process.hrtime.bigint() - start) / ITERATIONS;
  if (sink < 0) console.log(sink);
  return ns;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const matchNs: number[] = [];
const baseNs: number[] = [];
time((i) => matcher.match(...requests[i % requests.length]!)); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  baseNs.push(time((i) => baseline.get(requests[i % requests.length]![2])));
  matchNs.push(time((i) => matcher.match(...requests[i % requests.length]!)));
}
const m = median(matchNs);
const b = median(baseNs);
console.log(`routes: ${routes.length}, request mix: ${requests.length} (hits across hosts, a miss, a 405)`);
console.log(`match():          ${m.toFixed(0)} ns/op (median of ${ROUNDS} rounds of ${ITERATIONS})`);
console.log(`Map.get baseline: ${b.toFixed(0)} ns/op  → match is ${(m / b).toFixed(1)}× the baseline`);
console.log(JSON.stringify({ bench: 'gateway-routing-match', routes: routes.length, match_ns: Math.round(m), baseline_ns: Math.round(b), ratio: Number((m / b).toFixed(2)) }));
