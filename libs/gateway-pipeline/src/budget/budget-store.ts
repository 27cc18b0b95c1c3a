import type { RedisClient } from '@cloud-stack/service-kit';
import { sql, type Kysely } from '@cloud-stack/db';
import type { Logger } from '@cloud-stack/service-kit';
import type { BudgetState } from '../context';
import type { BudgetSchema } from './migrations';

/** Check and charge in one step, so two concurrent requests cannot both pass the cap. */
const RESERVE = `
local v = redis.call('GET', KEYS[1])
if not v then return {-1, '0'} end
local spend = tonumber(v)
if spend + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, v} end
return {1, redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])}
`;

type BudgetRedis = RedisClient & {
  gatewayBudgetReserve(key: string, cost: number, cap: number): Promise<[number, string]>;
};

export type Reservation =
  | { readonly kind: 'no_cap' }
  | { readonly kind: 'charged'; readonly spend: number; readonly cap: number }
  | { readonly kind: 'denied'; readonly spend: number; readonly cap: number };

export interface BudgetStoreOptions {
  readonly db: Kysely<BudgetSchema>;
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger: Logger;
  /** How long a cap read from PostgreSQL is reused (another replica's change shows after at most this). */
  readonly capTtlMs?: number;
  /** How often the hot counters are written back to PostgreSQL. */
  readonly flushMs?: number;
}

/** Sets an agent's monthly cap (other replicas see it within their cap TTL). */
export async function setBudgetCap(db: Kysely<BudgetSchema>, agentId: string, tenantId: string | null, monthlyCap: number): Promise<void> {
  await db
    .insertInto('agent_budgets')
    .values({ agent_id: agentId, tenant_id: tenantId, monthly_cap: monthlyCap, updated_at: new Date() })
    .onConflict((oc) => oc.column('agent_id').doUpdateSet({ tenant_id: tenantId, monthly_cap: monthlyCap, updated_at: new Date() }))
    .execute();
}

/** Forgets an agent's spend of the current month, in PostgreSQL and in Redis (for demos and support cases). */
export async function resetMonthSpend(db: Kysely<BudgetSchema>, redis: RedisClient, prefix: string, agentId: string): Promise<void> {
  const month = monthOf();
  await db.deleteFrom('agent_spend').where('agent_id', '=', agentId).where('month', '=', month).execute();
  await redis.del(`${prefix}budget:${agentId}:${month}`);
}

const MONTH_MS = 40 * 24 * 3600 * 1000;

function monthOf(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

/**
 * Per-agent monthly budgets. Caps and each month's spend live durably in PostgreSQL; the month's
 * counter is hot in Redis (seeded from PostgreSQL when absent, e.g. after a Redis restart) and
 * written back every `flushMs`. A Redis restart without persistence can lose at most the spend
 * of the last flush interval.
 */
export class BudgetStore {
  private readonly redis: BudgetRedis;
  private readonly caps = new Map<string, { cap: number | null; until: number }>();
  private readonly touched = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: BudgetStoreOptions) {
    this.redis = options.redis as BudgetRedis;
    if (typeof this.redis.gatewayBudgetReserve !== 'function') this.redis.defineCommand('gatewayBudgetReserve', { numberOfKeys: 1, lua: RESERVE });
    this.timer = setInterval(() => void this.flush().catch((err) => options.logger.warn({ err }, 'budget flush failed')), options.flushMs ?? 1000);
    this.timer.unref();
  }

  private key(agentId: string, month: string): string {
    return `${this.options.prefix}budget:${agentId}:${month}`;
  }

  async cap(agentId: string): Promise<number | null> {
    const now = Date.now();
    const hit = this.caps.get(agentId);
    if (hit && hit.until > now) return hit.cap;
    const row = await this.options.db.selectFrom('agent_budgets').select('monthly_cap').where('agent_id', '=', agentId).executeTakeFirst();
    const cap = row ? Number(row.monthly_cap) : null;
    this.caps.set(agentId, { cap, until: now + (this.options.capTtlMs ?? 10_000) });
    return cap;
  }

  /** Loads the month's spend from PostgreSQL into Redis unless Redis already has it. */
  private async seed(agentId: string, month: string): Promise<void> {
    const row = await this.options.db
      .selectFrom('agent_spend')
      .select('spend')
      .where('agent_id', '=', agentId)
      .where('month', '=', month)
      .executeTakeFirst();
    await this.options.redis.set(this.key(agentId, month), String(row ? Number(row.spend) : 0), 'PX', MONTH_MS, 'NX');
  }

  /** What the policy sees: this month's spend and the cap; null when the agent has no cap. */
  async state(agentId: string): Promise<BudgetState | null> {
    const cap = await this.cap(agentId);
    if (cap === null) return null;
    const month = monthOf();
    let spend = await this.options.redis.get(this.key(agentId, month));
    if (spend === null) {
      await this.seed(agentId, month);
      spend = await this.options.redis.get(this.key(agentId, month));
    }
    return { monthly_spend: Number(spend ?? 0), cap };
  }

  /** Charges `cost` unless it would take the month's spend over the cap. */
  async reserve(agentId: string, cost: number): Promise<Reservation> {
    const cap = await this.cap(agentId);
    if (cap === null) return { kind: 'no_cap' };
    const month = monthOf();
    const key = this.key(agentId, month);
    let [outcome, spend] = await this.redis.gatewayBudgetReserve(key, cost, cap);
    if (outcome === -1) {
      await this.seed(agentId, month);
      [outcome, spend] = await this.redis.gatewayBudgetReserve(key, cost, cap);
    }
    if (outcome !== 1) return { kind: 'denied', spend: Number(spend), cap };
    this.touched.add(`${agentId}\n${month}`);
    return { kind: 'charged', spend: Number(spend), cap };
  }

  /** Gives back a charge for a request that did not go through (upstream failed). */
  async refund(agentId: string, cost: number): Promise<void> {
    const month = monthOf();
    await this.options.redis.incrbyfloat(this.key(agentId, month), -cost);
    this.touched.add(`${agentId}\n${month}`);
  }

  async setCap(agentId: string, tenantId: string | null, monthlyCap: number): Promise<void> {
    await setBudgetCap(this.options.db, agentId, tenantId, monthlyCap);
    this.caps.delete(agentId);
  }

  /** Writes the touched counters to PostgreSQL; Redis holds the truth while it has the key, PostgreSQL re-seeds it when not. */
  async flush(): Promise<void> {
    if (this.touched.size === 0) return;
    const pending = [...this.touched];
    this.touched.clear();
    const keys = pending.map((p) => {
      const [agent, month] = p.split('\n') as [string, string];
      return { agent, month, key: this.key(agent, month) };
    });
    // One GET per key, not MGET: on a Redis Cluster the agents' keys lie in different slots
    // (auto-pipelining still sends them in one round trip per node).
    const values = await Promise.all(keys.map((k) => this.options.redis.get(k.key)));
    const rows = keys.flatMap((k, i) => (values[i] === null ? [] : [{ agent_id: k.agent, month: k.month, spend: Math.max(0, Number(values[i])), updated_at: new Date() }]));
    if (rows.length === 0) return;
    try {
      await this.options.db
        .insertInto('agent_spend')
        .values(rows)
        .onConflict((oc) => oc.columns(['agent_id', 'month']).doUpdateSet({ spend: sql`excluded.spend`, updated_at: sql`excluded.updated_at` }))
        .execute();
    } catch (err) {
      for (const p of pending) this.touched.add(p);
      throw err;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
