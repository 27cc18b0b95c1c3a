/**
 * `npm run policy:build [-- OPTIONS] [DIR]`: builds DIR (default infra/policies) into an OPA bundle,
 * like `opa build -b DIR`: `.manifest` with revision and roots, modules and data files, optionally
 * signed. Options (named as `opa build`'s): `-o/--output FILE` (default dist/policies/bundle.tar.gz),
 * `-r/--revision REV`, `--root PATH` (repeatable), `--ignore GLOB` (repeatable), `--signing-key FILE`
 * (PEM private key, or the HMAC secret for HS*), `--signing-alg ALG` (default RS256), `--keyid ID`,
 * `--scope SCOPE`. The npm script names infra/policies and ignores *_test.rego; the last DIR given wins.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { buildBundle, type SigningAlgorithm } from '@cloud-stack/policy-server';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512'];
const USAGE = 'usage: policy-build [-o FILE] [-r REVISION] [--root PATH]… [--ignore GLOB]… [--signing-key FILE [--signing-alg ALG] [--keyid ID] [--scope S]] [DIR]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const dirs: string[] = [];
const roots: string[] = [];
const ignore: string[] = [];
let output = 'dist/policies/bundle.tar.gz';
let revision: string | undefined;
let signingKey: string | undefined;
let signingAlg = 'RS256';
let keyid: string | undefined;
let scope: string | undefined;
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  const value = (): string => args[++i] ?? fail(`${arg} needs a value`);
  if (arg === '-o' || arg === '--output') output = value();
  else if (arg === '-r' || arg === '--revision') revision = value();
  else if (arg === '--root') roots.push(value());
  else if (arg === '--ignore') ignore.push(value());
  else if (arg === '--signing-key') signingKey = value();
  else if (arg === '--signing-alg') signingAlg = value();
  else if (arg === '--keyid') keyid = value();
  else if (arg === '--scope') scope = value();
  else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
  else dirs.push(arg);
}
if (!ALGORITHMS.includes(signingAlg)) fail(`--signing-alg: unsupported algorithm ${signingAlg} (${ALGORITHMS.join(', ')})`);

const dir = resolve(dirs[dirs.length - 1] ?? 'infra/policies');
const key = signingKey ? (await readFile(signingKey, 'utf8')).trim() : undefined;
try {
  const built = await buildBundle(dir, {
    revision,
    roots: roots.length ? roots : undefined,
    ignore,
    signer: key ? { algorithm: signingAlg as SigningAlgorithm, key, keyid, scope } : undefined,
  });
  await mkdir(dirname(resolve(output)), { recursive: true });
  await writeFile(output, built.archive);
  process.stdout.write(
    `${output}: revision ${built.revision}, roots [${built.roots.join(', ')}], ${built.files.length} files${key ? `, signed (${signingAlg}${keyid ? `, keyid ${keyid}` : ''})` : ''}\n`,
  );
} catch (err) {
  process.stderr.write(`${dir}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
