/**
 * Downloads OPA's source archive at a release and keeps only its compliance cases
 * (`v1/test/cases/testdata/v1`), byte for byte, in a cache folder outside version control.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { OPA_CASES_PATH } from './opa-release';

export interface FetchCasesOptions {
  readonly url: string;
  /** Where the category folders end up; replaced only once a download is complete. */
  readonly dest: string;
  readonly timeoutMs?: number;
}

/** A failure described in one line: what could not be done, and why. */
export class FetchCasesError extends Error {
  override readonly name = 'FetchCasesError';
}

export async function fetchCases(options: FetchCasesOptions): Promise<{ readonly files: number }> {
  const parent = dirname(options.dest);
  mkdirSync(parent, { recursive: true });
  const work = mkdtempSync(join(parent, '.fetch-'));
  try {
    const archive = join(work, 'source.tar.gz');
    await download(options.url, archive, options.timeoutMs ?? 120_000);
    const out = join(work, 'cases');
    mkdirSync(out);
    // The archive's top folder is named after the release (opa-1.19.0/); match past it.
    const depth = OPA_CASES_PATH.split('/').length + 1;
    const tar = spawnSync('tar', ['-xzf', archive, '-C', out, '--wildcards', `*/${OPA_CASES_PATH}/*`, `--strip-components=${depth}`], { encoding: 'utf8' });
    if (tar.error) throw new FetchCasesError(`cannot run tar: ${tar.error.message}`);
    if (tar.status !== 0) throw new FetchCasesError(`cannot unpack ${options.url}: ${firstLine(tar.stderr) || `tar exited ${tar.status}`}`);
    const files = countCaseFiles(out);
    if (files === 0) throw new FetchCasesError(`${options.url} holds no ${OPA_CASES_PATH}/*.yaml`);
    rmSync(options.dest, { recursive: true, force: true });
    renameSync(out, options.dest);
    return { files };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function download(url: string, file: string, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (e) {
    throw new FetchCasesError(`cannot download ${url}: ${reason(e)}`);
  }
  if (!res.ok || !res.body) throw new FetchCasesError(`cannot download ${url}: HTTP ${res.status}`);
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file));
  } catch (e) {
    throw new FetchCasesError(`download of ${url} broke off: ${reason(e)}`);
  }
}

/** fetch() says only "fetch failed"; the cause (DNS, refused, timeout) is what helps. */
function reason(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  if (cause instanceof Error) return firstLine(cause.message) || cause.name;
  return String(cause);
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

function countCaseFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f)).length;
}
