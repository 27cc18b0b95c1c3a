import { HttpProblem, type Logger } from '@cloud-stack/service-kit';
import type { GatewayContext } from '../context';
import type { BudgetStore } from '../budget/budget-store';
import type { Stage } from '../stage';

export interface BudgetDeps {
  readonly budgets: Pick<BudgetStore, 'reserve'>;
  readonly retryAfterSeconds?: number;
}

/** The refusal for a request its agent cannot afford: the same answer whether the policy or the guard saw it. */
export function budgetExceeded(agentId: string, spend: number, cost: number, cap: number): HttpProblem {
  return new HttpProblem(402, `budget exceeded: monthly spend ${spend} + cost ${cost} > cap ${cap}`, {
    title: 'Budget Exceeded',
    extensions: { agent_id: agentId, monthly_spend: spend, cost, cap },
  });
}

/**
 * Charges the route's cost to the subject's agent before the request is proxied, atomically
 * against the agent's monthly cap (the proxy refunds it when the upstream fails). Routes that
 * cost nothing, and subjects without an agent or a cap, pass untouched.
 */
export function budgetStage(deps: BudgetDeps): Stage {
  return {
    id: 'budget',
    build(route) {
      if (route.cost <= 0) return undefined;
      const cost = route.cost;
      return async (ctx) => {
        const agent = ctx.subject.agent_id;
        if (!agent) return;
        let outcome;
        try {
          outcome = await deps.budgets.reserve(agent, cost);
        } catch {
          if (route.failure.budget === 'open') return;
          ctx.errorCode = 'budget_unavailable';
          throw new HttpProblem(503, 'the budget store cannot be reached; try again later', {
            headers: { 'Retry-After': String(deps.retryAfterSeconds ?? 5) },
          });
        }
        if (outcome.kind === 'denied') {
          ctx.errorCode = 'budget_exceeded';
          throw budgetExceeded(agent, outcome.spend, cost, outcome.cap);
        }
        if (outcome.kind === 'charged') ctx.charged = cost;
      };
    },
  };
}

/**
 * What the proxy calls when the upstream failed (5xx, refused, timed out, marked down): gives the
 * request's charge back, once. A failed refund is logged, never the request's problem.
 */
export function refundOnFailure(budgets: Pick<BudgetStore, 'refund'>, logger: Pick<Logger, 'warn'>): (ctx: GatewayContext) => void {
  return (ctx) => {
    const agent = ctx.subject.agent_id;
    if (ctx.charged <= 0 || !agent) return;
    const cost = ctx.charged;
    ctx.charged = 0;
    budgets.refund(agent, cost).catch((err: unknown) => logger.warn({ err, agent }, 'budget refund failed'));
  };
}
