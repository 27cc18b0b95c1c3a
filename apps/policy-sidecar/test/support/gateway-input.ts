import type { PolicyInput } from '@cloud-stack/contracts';

/** A realistic gateway input: a developer of tenant-1 reading an agent. */
export function gatewayInput(overrides: {
  route?: Partial<PolicyInput['route']>;
  subject?: Partial<PolicyInput['subject']>;
  budget?: PolicyInput['budget'];
} = {}): PolicyInput {
  return {
    request: { method: 'POST', host: 'api.cloud-stack.test', path: '/agents/agent-7/execute', correlation_id: 'corr-1' },
    route: { id: 'agents.execute', params: { id: 'agent-7' }, permission: 'agent:read', requires_governor: false, cost: 0, ...overrides.route },
    subject: {
      authenticated: true,
      sub: 'user-1',
      tenant_id: 'tenant-1',
      client_id: 'console',
      roles: ['developer'],
      is_governor: false,
      trial_mode: false,
      agent_id: 'agent-7',
      ...overrides.subject,
    },
    budget: overrides.budget === undefined ? { monthly_spend: 10, cap: 100 } : overrides.budget,
  };
}
