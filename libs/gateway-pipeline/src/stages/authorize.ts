import type { Role } from '@cloud-stack/contracts';
import { HttpProblem } from '@cloud-stack/service-kit';
import type { Counter } from '@cloud-stack/service-kit';
import type { BudgetState, GatewayContext, Subject } from '../context';
import { DecisionCache } from '../policy/decision-cache';
import { PolicyUnavailableError, type Decision, type PolicyClient } from '../policy/policy-client';
import { budgetInputFor, BudgetUnavailableError, policyInputFor } from '../policy/policy-input';
import type { Stage } from '../stage';
import { budgetExceeded } from './budget';

export interface AuthorizeDeps {
  readonly policy: PolicyClient;
  readonly cache: DecisionCache;
  /** The agent's budget as the policy sees it; absent when no budget stage is configured. */
  readonly budgetState?: (agentId: string) => Promise<BudgetState | null>;
  /** Roles that may read a denial's reasons; everyone else gets a masked 403. */
  readonly reasonsVisibleTo: readonly Role[];
  readonly retryAfterSeconds?: number;
  readonly decisions?: Counter;
}

function canSeeReasons(subject: Subject, roles: readonly Role[]): boolean {
  return subject.roles.some((r) => roles.includes(r));
}

/**
 * One policy decision per request (cached briefly for identical inputs). A denial is a 403 that
 * shows its reasons only to roles allowed to read policy; the policy being unreachable is a 503
 * unless the route is fail-open, which lets the request through marked `X-Policy-Enforcement: degraded`.
 * Obligations are honoured: `route_to: sandbox` sends the request to the route's sandbox upstream.
 */
export function authorizeStage(deps: AuthorizeDeps): Stage {
  const retryAfter = String(deps.retryAfterSeconds ?? 5);

  async function budgetFor(ctx: GatewayContext, pending: Promise<BudgetState | null>): Promise<BudgetState | null> {
    try {
      return await pending;
    } catch (err) {
      if (err instanceof BudgetUnavailableError) ctx.errorCode = 'budget_unavailable';
      throw err;
    }
  }

  /**
   * What the input is made of (see policyInputFor): the route and the subject are immutable objects
   * (a changed route or a fresh introspection answer is a new one), the rest is the request line
   * and the budget; the route's params come from its template and the path.
   */
  function cacheKey(ctx: GatewayContext): string {
    const { cache } = deps;
    const budget = ctx.budget ? `${ctx.budget.monthly_spend}/${ctx.budget.cap}` : '';
    return `${cache.serial(ctx.route)}\n${cache.serial(ctx.subject)}\n${ctx.req.method ?? 'GET'}\n${ctx.host}\n${ctx.path}\n${budget}`;
  }

  /** The cached decision, or the policy's; the input is built only when the policy is asked. */
  async function decide(ctx: GatewayContext): Promise<Decision & { cached: boolean }> {
    const path = ctx.route.policy;
    const key = deps.cache.enabled ? cacheKey(ctx) : '';
    const now = Date.now();
    const hit = deps.cache.enabled ? deps.cache.get(key, now) : undefined;
    if (hit) return { ...hit, cached: true };
    const input = policyInputFor(ctx.route, { method: ctx.req.method ?? 'GET', host: ctx.host, path: ctx.path, params: ctx.params }, ctx.subject, ctx.budget);
    const decision = await deps.policy.decide(path, input);
    if (deps.cache.enabled) deps.cache.set(key, decision, now);
    return { ...decision, cached: false };
  }

  return {
    id: 'policy',
    build(route) {
      return async (ctx) => {
        const pendingBudget = budgetInputFor(route, ctx.subject, deps.budgetState, retryAfter);
        ctx.budget = pendingBudget ? await budgetFor(ctx, pendingBudget) : null;
        let decision;
        try {
          decision = await decide(ctx);
        } catch (err) {
          if (!(err instanceof PolicyUnavailableError)) throw err;
          if (route.failure.policy === 'open') {
            deps.decisions?.inc({ result: 'degraded', cache: 'miss' });
            ctx.decision = { allow: true, reasons: [`policy unavailable: ${err.message}`], policy: null, decision_id: null, enforcement: 'degraded' };
            ctx.res.setHeader('X-Policy-Enforcement', 'degraded');
            return;
          }
          deps.decisions?.inc({ result: 'unavailable', cache: 'miss' });
          ctx.errorCode = 'policy_unavailable';
          throw new HttpProblem(503, 'the policy service cannot be reached; try again later', { headers: { 'Retry-After': retryAfter } });
        }
        const { result } = decision;
        ctx.decision = {
          allow: result.allow,
          reasons: result.reasons,
          policy: result.policy ?? route.policy,
          decision_id: decision.decisionId,
          enforcement: decision.cached ? 'cached' : 'enforced',
        };
        deps.decisions?.inc({ result: result.allow ? 'allow' : 'deny', cache: decision.cached ? 'hit' : 'miss' });
        if (!result.allow) {
          // A denial for the budget alone is no policy internal: answer it as the budget guard does.
          const budget = ctx.budget;
          if (budget && ctx.subject.agent_id && budget.monthly_spend + route.cost > budget.cap && result.reasons.every((r) => r.startsWith('budget'))) {
            ctx.errorCode = 'budget_exceeded';
            throw budgetExceeded(ctx.subject.agent_id, budget.monthly_spend, route.cost, budget.cap);
          }
          ctx.errorCode = 'policy_violation';
          const visible = canSeeReasons(ctx.subject, deps.reasonsVisibleTo);
          throw new HttpProblem(403, visible ? 'the policy denied this request' : 'you are not allowed to do this', {
            extensions: visible ? { reasons: result.reasons, decision_id: decision.decisionId } : {},
          });
        }
        ctx.sandbox = result.obligations.route_to === 'sandbox';
      };
    },
  };
}
