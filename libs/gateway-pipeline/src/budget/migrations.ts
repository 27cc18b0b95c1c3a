import { sql, type Kysely, type Migration } from '@cloud-stack/db';

/** The budget tables of the gateway's database (migrated under their own migration table). */
export const budgetMigrations: Record<string, Migration> = {
  '0001-budgets': {
    async up(db: Kysely<unknown>) {
      await sql`
        CREATE TABLE agent_budgets (
          agent_id text PRIMARY KEY,
          tenant_id text,
          monthly_cap numeric NOT NULL CHECK (monthly_cap >= 0),
          updated_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
      // The month's spend per agent: the durable copy of the hot counter in Redis.
      await sql`
        CREATE TABLE agent_spend (
          agent_id text NOT NULL,
          month text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
          spend numeric NOT NULL DEFAULT 0 CHECK (spend >= 0),
          updated_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (agent_id, month)
        )`.execute(db);
    },
  },
};

export interface BudgetSchema {
  agent_budgets: { agent_id: string; tenant_id: string | null; monthly_cap: string | number; updated_at: Date };
  agent_spend: { agent_id: string; month: string; spend: string | number; updated_at: Date };
}
