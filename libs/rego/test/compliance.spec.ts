import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCase, type ComplianceCase } from '../compliance/cases';
import { FetchCasesError, fetchCases } from '../compliance/fetch-cases';
import { readKnownFailures } from '../compliance/known-failures';
import { MISSING_CASES_HINT, locateCases } from '../compliance/locate';
import { OPA_CASES_PATH, casesCacheDir } from '../compliance/opa-release';
import { loadCases } from '../compliance/read-cases';

const here = dirname(fileURLToPath(import.meta.url));
const KNOWN = join(here, '../compliance/known-failures.txt');
const FIXTURES = join(here, '../compliance/fixtures');

describe('OPA compliance suite (ratchet)', () => {
  const location = locateCases();
  if (!location) {
    // Skipped, never failed: a clone without the cases still runs every other test.
    console.log(MISSING_CASES_HINT);
    it('runs the cases', (ctx) => ctx.skip(MISSING_CASES_HINT));
    return;
  }
  const cases = loadCases(location.dir);
  const outcomes = cases.map(runCase);
  const known = readKnownFailures(KNOWN);

  it(`loads the suite (${location.source}: ${location.dir})`, () => {
    expect(cases.length).toBeGreaterThan(1000);
  });

  it('fails no case outside known-failures.txt', () => {
    const unexpected = outcomes.filter((o) => !o.passed && !known.has(o.id)).map((o) => `${o.id}: ${o.reason ?? ''}`);
    expect(unexpected).toEqual([]);
  });

  it('reports known failures that now pass (remove them from the list)', () => {
    const fixed = outcomes.filter((o) => o.passed && known.has(o.id)).map((o) => o.id);
    if (fixed.length) console.log(`known failures now passing (${fixed.length}):\n  ${fixed.join('\n  ')}`);
    expect(outcomes.filter((o) => o.passed).length).toBeGreaterThan(0);
  });
});

describe('reading compliance cases', () => {
  const yaml = loadCases(join(FIXTURES, 'yaml'));
  const byId = new Map(yaml.map((c) => [`${c.category}/${c.note}`, c]));
  const get = (id: string): ComplianceCase => {
    const c = byId.get(id);
    if (!c) throw new Error(`no case ${id}`);
    return c;
  };

  it("reads OPA's YAML layout: one folder per category, .yaml and .yml files in name order", () => {
    expect(yaml.map((c) => `${c.category}/${c.note}`)).toEqual([
      'demo/demo/rule with data and input',
      'demo/demo/quoted keys stay strings',
      'demo/demo/undefined',
      'demo/demo/undefined [2]',
      'demo/demo/input as a term',
      'demo/demo/timestamps and exponents as go-yaml reads them',
      'errors/errors/strict builtin error',
      'errors/errors/conflict',
    ]);
  });

  it('keeps block-scalar modules and integers beyond 2^53 exactly', () => {
    const c = get('demo/demo/rule with data and input');
    expect(c.modules).toEqual(['package demo\n\np := y if {\n\ty := data.limits[input.plan]\n}\n']);
    expect(c.data).toEqual({ limits: { trial: 10, pro: 9007199254740993n } });
    expect(c.want_result).toEqual([{ x: 9007199254740993n }]);
  });

  it('resolves scalars as YAML 1.1 does for OPA (unquoted n is false, timestamps stay strings, 1e3 is a number)', () => {
    expect(get('demo/demo/quoted keys stay strings').input).toEqual({ y: 1, on: 2, false: 3 });
    expect(get('demo/demo/timestamps and exponents as go-yaml reads them').input).toEqual({ date: '2017-06-02', big: 1000 });
  });

  it('keeps an empty want_result (undefined) apart from a missing one', () => {
    expect(get('demo/demo/undefined').want_result).toEqual([]);
    expect(get('errors/errors/conflict').want_result).toBeUndefined();
    expect(get('errors/errors/conflict').want_error_code).toBe('eval_conflict_error');
  });

  it('runs every fixture case to its expected outcome', () => {
    const failed = yaml.map(runCase).filter((o) => !o.passed);
    expect(failed).toEqual([]);
  });

  it('fails a case whose expectation does not hold', () => {
    const c = get('demo/demo/rule with data and input');
    const outcome = runCase({ ...c, want_result: [{ x: 9007199254740992n }] });
    expect(outcome.passed).toBe(false);
    expect(outcome.reason).toContain('result mismatch');
  });

  it('reads the one-JSON-file-per-category layout the same way', () => {
    const json = loadCases(join(FIXTURES, 'json'));
    expect(json.map((c) => `${c.category}/${c.note}`)).toEqual(['demo/demo/big integer in data', 'demo/demo/big integer in data [2]']);
    expect(json[0]!.data).toEqual({ n: 9007199254740993n });
    expect(json.map(runCase).every((o) => o.passed)).toBe(true);
  });

  it('names the file and the case when a case is malformed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rego-cases-'));
    try {
      mkdirSync(join(dir, 'bad'));
      writeFileSync(join(dir, 'bad', 'test-bad.yaml'), 'cases:\n  - note: bad/no query\n    want_result: []\n');
      expect(() => loadCases(dir)).toThrow(/bad[/\\]test-bad\.yaml case 1: query is missing/);
      writeFileSync(join(dir, 'bad', 'test-bad.yaml'), 'cases:\n  - note: [unclosed\n');
      expect(() => loadCases(dir)).toThrow(/test-bad\.yaml: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('locating the cases', () => {
  let root: string;
  let repo: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rego-locate-'));
    repo = join(root, 'cloud-stack');
    mkdirSync(repo);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds nothing in a clone with no sibling, no cache and no variable', () => {
    expect(locateCases({ env: {}, repoRoot: repo })).toBeUndefined();
    expect(MISSING_CASES_HINT).toContain('npm run rego:compliance:fetch');
  });

  it('uses the fetched cache of the pinned release', () => {
    const cache = casesCacheDir(repo);
    mkdirSync(cache, { recursive: true });
    expect(locateCases({ env: {}, repoRoot: repo })).toEqual({ dir: cache, source: 'cache' });
  });

  it('prefers a sibling shared/opa-compliance folder to the cache', () => {
    const sibling = join(root, 'shared', 'opa-compliance');
    mkdirSync(sibling, { recursive: true });
    expect(locateCases({ env: {}, repoRoot: repo })).toEqual({ dir: sibling, source: 'sibling' });
  });

  it('prefers OPA_COMPLIANCE_DIR to both, relative to the working directory', () => {
    expect(locateCases({ env: { OPA_COMPLIANCE_DIR: 'yaml' }, repoRoot: repo, cwd: FIXTURES })).toEqual({ dir: join(FIXTURES, 'yaml'), source: 'env' });
  });

  it('rejects an OPA_COMPLIANCE_DIR that is not a directory, naming the variable', () => {
    expect(() => locateCases({ env: { OPA_COMPLIANCE_DIR: join(root, 'missing') }, repoRoot: repo })).toThrow(/^OPA_COMPLIANCE_DIR=.*missing: not a directory$/);
  });
});

describe('fetching the cases', () => {
  let work: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'rego-fetch-'));
    // A source archive shaped like GitHub's: one top folder, the cases deep inside, other files around.
    const src = join(work, 'src');
    const cases = join(src, 'opa-9.9.9', OPA_CASES_PATH, 'demo');
    mkdirSync(cases, { recursive: true });
    writeFileSync(join(cases, 'test-demo.yaml'), readFileSync(join(FIXTURES, 'yaml', 'demo', 'test-demo-1.yaml')));
    writeFileSync(join(src, 'opa-9.9.9', 'README.md'), 'not a case\n');
    const tar = spawnSync('tar', ['-czf', join(work, 'opa.tar.gz'), '-C', src, 'opa-9.9.9']);
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
    const archive = readFileSync(join(work, 'opa.tar.gz'));
    server = createServer((req, res) => {
      if (req.url === '/opa.tar.gz') res.writeHead(200, { 'content-type': 'application/x-gzip' }).end(archive);
      else if (req.url === '/empty.tar.gz') res.writeHead(200).end(Buffer.alloc(0));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps only the case folders of the archive, readable as they are', async () => {
    const dest = join(work, 'cache', 'v9.9.9');
    expect(await fetchCases({ url: `${base}/opa.tar.gz`, dest })).toEqual({ files: 1 });
    expect(readdirSync(dest, { recursive: true, encoding: 'utf8' }).sort()).toEqual(['demo', join('demo', 'test-demo.yaml')]);
    expect(loadCases(dest).map((c) => c.note)).toContain('demo/rule with data and input');
    // No staging folders are left beside the cache.
    expect(readdirSync(join(work, 'cache'))).toEqual(['v9.9.9']);
  });

  it('fails with one line naming the URL and the HTTP status', async () => {
    const dest = join(work, 'cache', 'v404');
    const err = await fetchCases({ url: `${base}/missing.tar.gz`, dest }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchCasesError);
    expect((err as Error).message).toBe(`cannot download ${base}/missing.tar.gz: HTTP 404`);
    expect(existsSync(dest)).toBe(false);
  });

  it('fails with one line when the archive is not one', async () => {
    const err = await fetchCases({ url: `${base}/empty.tar.gz`, dest: join(work, 'cache', 'vempty') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchCasesError);
    expect((err as Error).message).toMatch(/^cannot unpack .*empty\.tar\.gz: /);
    expect((err as Error).message).not.toContain('\n');
  });

  it('fails with one line giving the cause when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await fetchCases({ url: `http://127.0.0.1:${port}/opa.tar.gz`, dest: join(work, 'cache', 'vdown') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchCasesError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot download http://127\\.0\\.0\\.1:${port}/opa\\.tar\\.gz: .*ECONNREFUSED`));
  });
});
