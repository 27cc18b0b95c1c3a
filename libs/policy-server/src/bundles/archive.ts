import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { extract, pack } from 'tar-stream';

/** A bundle's files by path relative to the bundle root ("data.json", "gateway/authz.rego", ".manifest"). */
export type BundleFiles = Map<string, Buffer>;

/** A bundle that cannot be read, verified or activated; the message is what /v1/status reports. */
export class BundleError extends Error {
  override name = 'BundleError';
}

/** OPA writes "/data.json", `tar` writes "./data.json": both name the same file. */
export function normalizeBundlePath(name: string): string {
  const path = name.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
  if (path.split('/').some((s) => s === '..')) throw new BundleError(`bundle file ${JSON.stringify(name)} escapes the bundle root`);
  return path;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Reads a bundle archive: a gzipped tarball (or a plain tar, as a server that already decoded
 * `Content-Encoding: gzip` hands over). Only regular files count; the total size is capped like
 * OPA's `size_limit_bytes` to stop gzip bombs.
 */
export async function readBundleArchive(archive: Buffer, sizeLimitBytes = Number.MAX_SAFE_INTEGER): Promise<BundleFiles> {
  const gz = archive[0] === GZIP_MAGIC[0] && archive[1] === GZIP_MAGIC[1];
  const source = Readable.from([archive]);
  const tar = extract();
  const files: BundleFiles = new Map();
  let total = 0;
  const done = (gz ? source.pipe(createGunzip()) : source).pipe(tar);
  try {
    for await (const entry of done) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > sizeLimitBytes) throw new BundleError(`bundle exceeds size_limit_bytes (${sizeLimitBytes})`);
        chunks.push(chunk);
      }
      if (entry.header.type !== 'file') continue;
      const path = normalizeBundlePath(entry.header.name);
      if (files.has(path)) throw new BundleError(`bundle file ${path} appears twice`);
      files.set(path, Buffer.concat(chunks));
    }
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(`bundle read failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return files;
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile()) out.push(full);
  }
}

/** Reads a bundle laid out as a directory (`opa run --bundle dir/`): every regular file, dot-files included. */
export async function readBundleDirectory(dir: string): Promise<BundleFiles> {
  const paths: string[] = [];
  await walk(dir, paths);
  paths.sort();
  const files: BundleFiles = new Map();
  for (const p of paths) files.set(relative(dir, p).split(sep).join('/'), await readFile(p));
  return files;
}

/** Writes files as a gzipped tarball with OPA's leading-slash names, in a stable order. */
export async function writeBundleArchive(files: ReadonlyMap<string, Buffer>): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<void>((resolve, reject) => {
    tar.on('data', (c: unknown) => chunks.push(c as Buffer));
    tar.on('end', resolve);
    tar.on('error', reject);
  });
  for (const path of [...files.keys()].sort()) {
    await new Promise<void>((resolve, reject) => {
      tar.entry({ name: `/${path}`, mtime: new Date(0), mode: 0o644 }, files.get(path)!, (err) => (err ? reject(err) : resolve()));
    });
  }
  tar.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks));
}
