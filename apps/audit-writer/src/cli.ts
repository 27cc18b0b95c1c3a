import { createDb } from '@cloud-stack/db';
import { exitOnConfigError, runCommand } from '@cloud-stack/service-kit';
import { readAuditWriterConfig } from './config';
import { migrateAudit } from './migrate';

const USAGE = 'usage: audit-writer <migrate>';

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  const config = exitOnConfigError(() => readAuditWriterConfig());
  switch (command) {
    case 'migrate': {
      const db = createDb<unknown>(config.DATABASE_URL, { max: 1 });
      try {
        const applied = await migrateAudit(config.DATABASE_URL, db);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      } finally {
        await db.destroy();
      }
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

runCommand('audit-writer', main);
