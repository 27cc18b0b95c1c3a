// temporary profiling loop (removed before hand-off)
import { resolve } from 'node:path';
import { compileModules } from '@cloud-stack/rego';
import { POLICY_DECISION_PATH } from '@cloud-stack/contracts';
import { loadDirectory } from '@cloud-stack/policy-server';
const input = {
  request: { method: 'POST', host: 'api.cloud-stack.test', path: '/v1/agents/agent-7/execute', correlation_id: '01935c8e-7c1a-7000-8000-000000000001' },
  route: { id: 'agents.execute', params: { id: 'agent-7' }, permission: 'agent:execute', requires_governor: false, cost: 2 },
  subject: { authenticated: true, sub: 'user-42', tenant_id: 'tenant-acme', client_id: 'console', roles: ['analyst', 'developer'], is_governor: false, trial_mode: true, agent_id: 'agent-7' },
  budget: { monthly_spend: 41.5, cap: 100 },
};
const { modules, data } = await loadDirectory(resolve('infra/policies'));
const set = compileModules(modules.map((m) => ({ file: m.id, source: m.source })));
const path = [...POLICY_DECISION_PATH];
const N = Number(process.env.N ?? 200000);
for (let i = 0; i < 20000; i++) set.evaluate(path, { input, data });
const m0 = process.memoryUsage().heapUsed;
const t = process.hrtime.bigint();
for (let i = 0; i < N; i++) set.evaluate(path, { input, data });
const ns = Number(process.hrtime.bigint() - t);
console.log(`mean ${(ns / N / 1e3).toFixed(2)} us`, JSON.stringify(set.evaluate(path, { input, data })));
void m0;
