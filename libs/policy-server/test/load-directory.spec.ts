import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFileError, loadDirectory } from '../src/index';

describe('loadDirectory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'a/b'), { recursive: true });
  mkdirSync(join(dir, '.hidden'));
  writeFileSync(join(dir, 'a/p.rego'), 'package a\n');
  writeFileSync(join(dir, 'a/b/q.rego'), 'package a.b\n');
  writeFileSync(join(dir, '.hidden/x.rego'), 'package hidden\n');
  writeFileSync(join(dir, 'data.json'), '{"top": 1}');
  writeFileSync(join(dir, 'a/b/data.yaml'), 'roles:\n  - admin\n');
  writeFileSync(join(dir, 'notes.txt'), 'ignored');

  it('reads modules by relative path and merges data files at their directory', async () => {
    const loaded = await loadDirectory(dir);
    expect(loaded.modules.map((m) => m.id)).toEqual(['a/b/q.rego', 'a/p.rego']);
    expect(loaded.data).toEqual({ top: 1, a: { b: { roles: ['admin'] } } });
  });

  it('names the data file that is broken', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'policy-load-bad-'));
    try {
      writeFileSync(join(bad, 'data.json'), '{"x": ');
      await expect(loadDirectory(bad)).rejects.toSatisfy((e) => e instanceof DataFileError && e.file === 'data.json');
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
