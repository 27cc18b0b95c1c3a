import { readFile } from 'node:fs/promises';
import { createDb } from '@cloud-stack/db';
import { createRouteStore, type GatewayRoutingDatabase } from '@cloud-stack/gateway-routing';
import { resetMonthSpend, setBudgetCap, type BudgetSchema } from '@cloud-stack/gateway-pipeline';
import { createRedisClient, exitOnConfigError, runCommand } from '@cloud-stack/service-kit';
import { readGatewayConfig } from './config';
import { prepareDatabase } from './migrate';

const USAGE = `usage: gateway migrate
       gateway apply <routes.yaml|routes.json> [--activate]
       gateway budget <agent_id> <monthly_cap> [tenant_id] [--reset-spend]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const config = exitOnConfigError(() => readGatewayConfig());
  switch (command) {
    case 'migrate': {
      const applied = await prepareDatabase(config);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      return 0;
    }
    case 'apply': {
      const file = args.find((a) => !a.startsWith('--'));
      if (!file) break;
      await prepareDatabase(config);
      const db = createDb<GatewayRoutingDatabase>(config.DATABASE_URL, { max: 1 });
      try {
        const store = createRouteStore(db);
        const text = await readFile(file, 'utf8');
        const draft = await store.applyFile(text, { createdBy: 'cli', note: `applied from ${file}` });
        console.log(`draft version ${draft.version} with ${draft.routes.length} routes`);
        if (args.includes('--activate')) {
          await store.activate(draft.version);
          console.log(`version ${draft.version} is live`);
        }
      } finally {
        await db.destroy();
      }
      return 0;
    }
    case 'budget': {
      const [agent, cap, tenant] = args.filter((a) => !a.startsWith('--'));
      if (!agent || !cap || !Number.isFinite(Number(cap)) || Number(cap) < 0) break;
      await prepareDatabase(config);
      const db = createDb<BudgetSchema>(config.DATABASE_URL, { max: 1 });
      try {
        await setBudgetCap(db, agent, tenant ?? null, Number(cap));
        console.log(`agent ${agent}: monthly cap ${cap}`);
        if (args.includes('--reset-spend')) {
          const redis = createRedisClient(config.REDIS_URL, { maxRetriesPerRequest: 1 });
          try {
            await resetMonthSpend(db, redis, config.GATEWAY_REDIS_PREFIX, agent);
          } finally {
            redis.disconnect();
          }
          console.log(`agent ${agent}: this month's spend reset to 0`);
        }
      } finally {
        await db.destroy();
      }
      return 0;
    }
  }
  console.error(USAGE);
  return 2;
}

runCommand('gateway', main);
