/** OPA v1/topdown/crypto.go: hashes and HMACs over the UTF-8 bytes of strings. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { BuiltinRegistry } from './registry';
import { def, stringArg } from './utils';

export function register(r: BuiltinRegistry): void {
  for (const [name, algo] of [
    ['md5', 'md5'],
    ['sha1', 'sha1'],
    ['sha256', 'sha256'],
  ] as const) {
    def(r, `crypto.${name}`, 1, (args) => createHash(algo).update(stringArg(args, 0), 'utf8').digest('hex'));
  }
  for (const [name, algo] of [
    ['md5', 'md5'],
    ['sha1', 'sha1'],
    ['sha256', 'sha256'],
    ['sha512', 'sha512'],
  ] as const) {
    def(r, `crypto.hmac.${name}`, 2, (args) =>
      createHmac(algo, Buffer.from(stringArg(args, 1), 'utf8')).update(stringArg(args, 0), 'utf8').digest('hex'),
    );
  }
  def(r, 'crypto.hmac.equal', 2, (args) => {
    const a = Buffer.from(stringArg(args, 0), 'utf8');
    const b = Buffer.from(stringArg(args, 1), 'utf8');
    // Constant time like Go's hmac.Equal; different lengths are simply unequal.
    return a.length === b.length && timingSafeEqual(a, b);
  });
}
