import { createDb, ensureDatabase } from '@cloud-stack/db';
import type { Logger } from '@cloud-stack/service-kit';
import { migrateGateway, type GatewayDatabase } from './app';
import type { GatewayConfig } from './config';

/** Creates the gateway's database if needed and migrates it. */
export async function prepareDatabase(config: GatewayConfig, logger?: Logger): Promise<string[]> {
  await ensureDatabase(config.DATABASE_URL);
  const db = createDb<GatewayDatabase>(config.DATABASE_URL, { max: 1, applicationName: 'gateway-migrate' });
  try {
    const applied = await migrateGateway(db);
    if (applied.length) logger?.info({ applied }, 'gateway migrations applied');
    return applied;
  } finally {
    await db.destroy();
  }
}
