import { resolve } from 'node:path';
import { createDb, ensureDatabase } from '@cloud-stack/db';
import { createLogger, exitOnConfigError, runCommand } from '@cloud-stack/service-kit';
import { loadSeed, migrateIdentity, openIdentity, readIdentityConfig, readSeedFile, scryptParams, type IdentityDatabase } from '@cloud-stack/identity-core';

const USAGE = 'usage: identity <migrate | seed [file] | rotate-key>';

async function main(argv: string[]): Promise<number> {
  const [command, arg] = argv;
  const config = exitOnConfigError(() => readIdentityConfig());
  const logger = createLogger('identity-cli', process.env.LOG_LEVEL ?? 'warn');

  switch (command) {
    case 'migrate': {
      await ensureDatabase(config.DATABASE_URL);
      const db = createDb<IdentityDatabase>(config.DATABASE_URL, { max: 1 });
      try {
        const applied = await migrateIdentity(db);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      } finally {
        await db.destroy();
      }
      return 0;
    }
    case 'seed': {
      const seed = await readSeedFile(arg ? resolve(arg) : undefined);
      await ensureDatabase(config.DATABASE_URL);
      const db = createDb<IdentityDatabase>(config.DATABASE_URL, { max: 2 });
      try {
        await migrateIdentity(db);
        const summary = await loadSeed(db, seed, { scrypt: scryptParams(config) });
        console.log(`seeded ${summary.tenants.length} tenants, ${summary.users.length} users, ${summary.clients.length} clients into ${new URL(config.DATABASE_URL).pathname.slice(1)}\n`);
        console.log('tenants:');
        for (const t of summary.tenants) console.log(`  ${t.id.padEnd(12)} ${t.name}${t.platform ? ' [platform]' : ''}${t.allowed_email_domains.length ? ` domains=${t.allowed_email_domains.join(',')}` : ''}`);
        console.log('\nusers (grant_type=password via client "console"):');
        for (const u of summary.users) {
          const flags = [u.is_governor ? 'governor' : '', u.trial_mode ? 'trial' : '', u.agent_id ? `agent=${u.agent_id}` : ''].filter(Boolean).join(' ');
          console.log(`  ${u.email.padEnd(32)} ${u.password.padEnd(22)} ${u.tenant.padEnd(10)} ${u.roles.join(',')}${flags ? ` (${flags})` : ''}`);
        }
        console.log('\nclients:');
        for (const c of summary.clients) console.log(`  ${c.client_id.padEnd(14)} ${c.client_type.padEnd(13)} ${c.client_secret ?? '(no secret)'}  ${c.grant_types.join(',')}${c.trusted ? ' [trusted]' : ''}`);
      } finally {
        await db.destroy();
      }
      return 0;
    }
    case 'rotate-key': {
      const ctx = await openIdentity(config, { logger });
      try {
        const kid = await ctx.rotateKey();
        console.log(`new signing key: ${kid}`);
        for (const k of ctx.keys.describe()) console.log(`  ${k.kid}  ${k.status}${k.verifies_until ? `  verifies until ${k.verifies_until}` : ''}`);
      } finally {
        await ctx.close();
      }
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

runCommand('identity', main);
