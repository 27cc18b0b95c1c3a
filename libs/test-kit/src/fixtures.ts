import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '@cloud-stack/db';

// What global-setup.ts provides; declared here so every project importing test-kit sees the types.
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

/** The admin connection string of the test PostgreSQL server (a superuser on its `postgres` db). */
export function adminDatabaseUrl(): string {
  return inject('databaseUrl');
}

export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A fresh database for this test file: created before its tests, dropped after them. */
export function useTestDatabase(label = 'test'): { readonly url: string } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(adminDatabaseUrl(), label);
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get url(): string {
      if (!db) throw new TypeError('the test database exists only inside tests and hooks');
      return db.url;
    },
  };
}

/** A Redis key prefix unique to this test file; its keys are deleted after the file's tests. */
export function useRedisPrefix(label = 'test'): { readonly prefix: string; readonly url: string } {
  const prefix = `t:${label}:${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.unlink(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });
  return {
    prefix,
    get url() {
      return testRedisUrl();
    },
  };
}
