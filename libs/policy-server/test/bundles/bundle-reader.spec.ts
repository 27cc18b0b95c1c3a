import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleError, readBundleArchive, readBundleDirectory } from '../../src/bundles/archive';
import { parseBundle } from '../../src/bundles/bundle';
import { buildBundle } from '../../src/bundles/build';
import { hashBundleFile } from '../../src/bundles/hash';
import { packagePath } from '../../src/bundles/package-path';
import { archiveOf, filesOf } from './bundle-server';

const noKeys = { keys: {} };

describe('bundle reading', () => {
  it('reads a tar.gz: manifest, data at its directory path, modules with their rego versions', async () => {
    const archive = await archiveOf({
      '.manifest': JSON.stringify({
        revision: 'r1',
        roots: ['/authz/', 'roles'],
        rego_version: 1,
        file_rego_versions: { '/authz/legacy/*.rego': 0 },
        metadata: { team: 'platform' },
      }),
      'authz/policy.rego': 'package authz\n\nallow if input.ok\n',
      'authz/legacy/old.rego': 'package authz.legacy\n\nallow { input.ok }\n',
      'roles/data.json': '{"admin": ["*"]}',
      'roles/viewers/data.yaml': 'names:\n  - ann\n',
      'README.md': 'not loaded',
    });
    const files = await readBundleArchive(archive);
    expect([...files.keys()].sort()).toEqual(['.manifest', 'README.md', 'authz/legacy/old.rego', 'authz/policy.rego', 'roles/data.json', 'roles/viewers/data.yaml']);
    const bundle = parseBundle(files, noKeys);
    expect(bundle.manifest).toMatchObject({ revision: 'r1', roots: ['authz', 'roles'], rego_version: 1, metadata: { team: 'platform' } });
    expect(bundle.data).toEqual({ roles: { admin: ['*'], viewers: { names: ['ann'] } } });
    expect(bundle.modules.map((m) => [m.path, m.regoVersion])).toEqual([
      ['authz/legacy/old.rego', 'v0'],
      ['authz/policy.rego', 'v1'],
    ]);
    expect(bundle.signed).toBe(false);
  });

  it('reads a plain (already gunzipped) tar and a directory the same way', async () => {
    const spec = { '.manifest': '{"revision": "d"}', 'a/p.rego': 'package a\n', 'a/data.json': '{"x": 1}' };
    const gz = await archiveOf(spec);
    const dir = mkdtempSync(join(tmpdir(), 'bundle-dir-'));
    try {
      mkdirSync(join(dir, 'a'));
      for (const [p, c] of Object.entries(spec)) writeFileSync(join(dir, p), c);
      const fromTar = parseBundle(await readBundleArchive(gunzipSync(gz)), noKeys);
      const fromDir = parseBundle(await readBundleDirectory(dir), noKeys);
      expect(fromDir).toEqual(fromTar);
      expect(fromDir.data).toEqual({ a: { x: 1 } });
      expect(fromDir.manifest.roots).toEqual(['']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a module whose package is outside the roots', () => {
    const files = filesOf({ '.manifest': '{"roots": ["authz"]}', 'x.rego': '# comment\npackage other.thing\n' });
    expect(() => parseBundle(files, noKeys)).toThrow("manifest roots [authz] do not permit 'package other.thing' in module 'x.rego'");
  });

  it('refuses data outside the roots, and overlapping roots in one manifest', () => {
    const data = filesOf({ '.manifest': '{"roots": ["authz"]}', 'roles/data.json': '{"a": 1}' });
    expect(() => parseBundle(data, noKeys)).toThrow("manifest roots [authz] do not permit data at path '/roles'");
    const overlap = filesOf({ '.manifest': '{"roots": ["a", "a/b"]}' });
    expect(() => parseBundle(overlap, noKeys)).toThrow("manifest has overlapped roots: 'a' and 'a/b'");
  });

  it('refuses conflicting data files, an unknown rego_version and delta bundles', () => {
    expect(() => parseBundle(filesOf({ 'data.json': '{"a": 1}', 'a/data.json': '{"b": 2}' }), noKeys)).toThrow(BundleError);
    expect(() => parseBundle(filesOf({ '.manifest': '{"rego_version": 2}' }), noKeys)).toThrow('unknown bundle rego-version 2');
    expect(() => parseBundle(filesOf({ 'patch.json': '{"data": []}' }), noKeys)).toThrow('delta bundles');
  });

  it('refuses archives with paths escaping the root, and archives over the size limit', async () => {
    await expect(readBundleArchive(await archiveOf({ '../evil.rego': 'package x' }))).rejects.toThrow('escapes the bundle root');
    await expect(readBundleArchive(await archiveOf({ 'data.json': '{"a": "0123456789"}' }), 10)).rejects.toThrow('size_limit_bytes');
    await expect(readBundleArchive(gzipSync(Buffer.from('not a tar')))).rejects.toThrow(BundleError);
  });

  it('reads package paths past comments, with brackets, without the data prefix', () => {
    expect(packagePath('# c\n\n  package a.b["c-d"].e\n')).toEqual(['a', 'b', 'c-d', 'e']);
    expect(packagePath('package data.x')).toEqual(['x']);
    expect(packagePath('import rego.v1\npackage x')).toBeUndefined();
  });
});

describe('file hashes (OPA bundle/hash.go)', () => {
  it('hashes JSON canonically: sorted keys, no whitespace, number literals as written', () => {
    const a = hashBundleFile('data.json', Buffer.from('{ "b": 1.0, "a": [true, null, "x"] }'));
    const b = hashBundleFile('data.json', Buffer.from('{"a":[true,null,"x"],"b":1.0}'));
    const sha = (s: string) => hashBundleFile('x.rego', Buffer.from(s));
    expect(a).toBe(b);
    // The canonical text is hashed as bytes: the same digest as the raw file would have.
    expect(a).toBe(sha('{"a":[true,null,"x"],"b":1.0}'));
    expect(hashBundleFile('data.json', Buffer.from('{"b": 1}'))).not.toBe(hashBundleFile('data.json', Buffer.from('{"b": 1.0}')));
  });

  it('hashes other files byte for byte, with the algorithm named', () => {
    expect(hashBundleFile('p.rego', Buffer.from('package p\n'), 'SHA-256')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashBundleFile('p.rego', Buffer.from('package p\n'), 'MD5')).toMatch(/^[0-9a-f]{32}$/);
    expect(() => hashBundleFile('p.rego', Buffer.from(''), 'SHA-3')).toThrow('unsupported hashing algorithm');
  });
});

describe('buildBundle (npm run policy:build)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-build-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'gateway'));
  writeFileSync(join(dir, 'gateway/authz.rego'), 'package gateway.authz\n\nallow if input.ok\n');
  writeFileSync(join(dir, 'gateway/authz_test.rego'), 'package gateway.authz_test\n\ntest_x if true\n');
  writeFileSync(join(dir, 'data.json'), '{"settings": {"a": 1}}');
  writeFileSync(join(dir, 'notes.md'), 'left out');

  it('writes a manifest with a content revision and the roots of the packages and data', async () => {
    const built = await buildBundle(dir, { ignore: ['*_test.rego'] });
    expect(built.roots).toEqual(['gateway', 'settings']);
    expect(built.files).toEqual(['.manifest', 'data.json', 'gateway/authz.rego']);
    const again = await buildBundle(dir, { ignore: ['*_test.rego'] });
    expect(again.revision).toBe(built.revision);
    const read = parseBundle(await readBundleArchive(built.archive), noKeys);
    expect(read.manifest).toMatchObject({ revision: built.revision, roots: ['gateway', 'settings'] });
  });

  it('refuses to build a bundle whose given roots do not cover its packages', async () => {
    await expect(buildBundle(dir, { roots: ['gateway'] })).rejects.toThrow("do not permit data at path '/settings'");
  });
});
