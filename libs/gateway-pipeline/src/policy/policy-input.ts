import type { PolicyInput } from '@cloud-stack/contracts';
import type { Route } from '@cloud-stack/gateway-routing';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { BudgetState, Subject } from '../context';

/** The request as the policy sees it: what the route matched. */
export interface PolicyRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * The one place a policy input is built: the authorize stage for every request, and the admin
 * API's playground, so the playground shows the decision the gateway would get.
 */
export function policyInputFor(route: Route, request: PolicyRequest, subject: Subject, budget: BudgetState | null): PolicyInput {
  return {
    request: { method: request.method, host: request.host, path: request.path },
    route: { id: route.id, permission: route.permission, requires_governor: route.requires_governor, cost: route.cost, params: { ...request.params } },
    subject,
    budget,
  };
}

/**
 * The agent's budget as the policy sees it: null at once when none applies (no promise on the
 * request path), else the store's answer. A request that costs nothing cannot exceed a budget: its
 * decision does not depend on the spend (and stays cacheable while the spend moves). The store
 * being unreachable follows the route's budget failure mode (503 when closed).
 */
export function budgetInputFor(
  route: Route,
  subject: Subject,
  budgetState: ((agentId: string) => Promise<BudgetState | null>) | undefined,
  retryAfterSeconds = '5',
): Promise<BudgetState | null> | null {
  const agent = subject.agent_id;
  if (!budgetState || !agent || route.cost <= 0 || !route.stages.includes('budget')) return null;
  return budgetState(agent).catch(() => {
    if (route.failure.budget === 'open') return null;
    throw new BudgetUnavailableError(retryAfterSeconds);
  });
}

/** The budget store could not be read for a fail-closed route. */
export class BudgetUnavailableError extends HttpProblem {
  constructor(retryAfterSeconds: string) {
    super(503, 'the budget store cannot be reached; try again later', { headers: { 'Retry-After': retryAfterSeconds } });
    this.name = 'BudgetUnavailableError';
  }
}
