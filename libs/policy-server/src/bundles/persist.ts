import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PersistedBundle {
  readonly archive: Buffer;
  readonly etag?: string;
}

/**
 * The last activated bundle of `persist: true` sources, at OPA's place
 * (`<persistence_directory>/bundles/<name>/bundle.tar.gz`), with its ETag beside it so the first
 * poll after a restart can answer 304. Written to a temporary file and renamed: a crash mid-write
 * leaves the previous bundle.
 */
export class BundlePersistence {
  constructor(private readonly directory: string) {}

  private dir(name: string): string {
    return join(this.directory, 'bundles', encodeURIComponent(name));
  }

  async load(name: string): Promise<PersistedBundle | undefined> {
    let archive: Buffer;
    try {
      archive = await readFile(join(this.dir(name), 'bundle.tar.gz'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const etag = await readFile(join(this.dir(name), 'etag'), 'utf8').catch(() => '');
    return { archive, etag: etag || undefined };
  }

  async save(name: string, bundle: PersistedBundle): Promise<void> {
    const dir = this.dir(name);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.bundle.tar.gz.${process.pid}.tmp`);
    const tmpEtag = join(dir, `.etag.${process.pid}.tmp`);
    await writeFile(tmp, bundle.archive);
    await writeFile(tmpEtag, bundle.etag ?? '');
    // Bundle first: a stale ETag beside a new bundle only costs one full download.
    await rename(tmp, join(dir, 'bundle.tar.gz'));
    await rename(tmpEtag, join(dir, 'etag'));
  }
}
