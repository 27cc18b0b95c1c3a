import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PolicyResultSchema, type PolicyInput } from '@cloud-stack/contracts';
import { PolicyStore, watchDirectory, type DirectoryWatcher } from '@cloud-stack/policy-server';
import type { Logger } from '@cloud-stack/service-kit';
import { PolicyUnavailableError, type Decision, type PolicyClient, type PolicyListing } from './policy-client';

export interface EmbeddedClientOptions {
  /** The same directory the sidecar serves (`.rego` modules and `data.json` files). */
  readonly dir: string;
  /** Reload when the directory changes (atomically: a broken change keeps the serving set). */
  readonly watch: boolean;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * POLICY_MODE=embedded: the sidecar's policy store and Rego engine in the gateway's process, so a
 * decision costs no network hop. Same files, same results as the sidecar.
 */
export async function embeddedPolicyClient(options: EmbeddedClientOptions): Promise<PolicyClient> {
  const store = new PolicyStore(options.logger, options.dir);
  const first = await store.reload();
  if (!first.ok) throw new Error(`cannot load policies from ${options.dir}: ${first.message ?? 'unknown error'}`);
  const reload = async () => {
    const report = await store.reload();
    if (report.ok) options.logger.info({ revision: report.revision }, 'policies reloaded');
    else options.logger.error({ errors: report.errors }, `policy reload failed, keeping revision ${report.revision}`);
  };
  const watcher: DirectoryWatcher | undefined = options.watch ? watchDirectory(options.dir, 200, reload, options.logger) : undefined;
  const paths = new Map<string, readonly string[]>();
  const limits = { timeoutMs: options.timeoutMs };

  return {
    async decide(path: string, input: PolicyInput): Promise<Decision> {
      let ref = paths.get(path);
      if (!ref) paths.set(path, (ref = path.split('/')));
      const snapshot = store.current();
      let outcome;
      try {
        outcome = snapshot.set.evaluate(ref, { ...limits, input, data: snapshot.data });
      } catch (err) {
        throw new PolicyUnavailableError(`policy evaluation failed: ${(err as Error).message}`);
      }
      if (!outcome.defined) throw new PolicyUnavailableError(`the policy defines no decision at ${path}`);
      const parsed = PolicyResultSchema.safeParse(outcome.result);
      if (!parsed.success) throw new PolicyUnavailableError(`the decision at ${path} is not a PolicyResult`);
      return { result: parsed.data, decisionId: randomUUID() };
    },
    async describe(): Promise<PolicyListing> {
      const snapshot = store.current();
      // Every module evaluated, built-ins too, as the sidecar's Policy API lists them.
      const modules = [...snapshot.modules.values()]
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((m) => (m.origin === 'file' ? { id: m.id, path: join(options.dir, m.id), raw: m.source } : { id: m.id, raw: m.source }));
      return { mode: 'embedded', revision: String(snapshot.revision), modules };
    },
    async check() {
      if (!store.status().activated) throw new Error('no policy loaded');
    },
    async close() {
      watcher?.close();
    },
  };
}
