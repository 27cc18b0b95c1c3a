/**
 * OPA v1/topdown/crypto.go: crypto.x509.* and crypto.parse_private_keys on node:crypto.
 * Certificates are answered as a subset of Go's x509.Certificate JSON (the fields policies
 * read: Subject/Issuer names, SerialNumber, NotBefore/NotAfter, DNSNames, EmailAddresses,
 * IPAddresses, URIStrings, IsCA, Raw); absent lists are null as Go encodes nil slices.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { BuiltinRegistry } from './registry';
import { BuiltinError } from './registry';
import { def, stringArg } from './utils';
import { RegoObject, fromBigInt, fromJSON, type Value } from '../value';

// ---- input decoding (getX509CertsFromString) ----

const STD_B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeStdBase64(s: string): Buffer {
  if (!STD_B64.test(s) || s.length % 4 !== 0) {
    let i = 0;
    while (i < s.length && /[A-Za-z0-9+/]/.test(s[i]!)) i++;
    const at = i < s.length && s[i] !== '=' ? i : s.length - (s.length % 4);
    throw new BuiltinError(`illegal base64 data at input byte ${at}`);
  }
  return Buffer.from(s, 'base64');
}

interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    const body = m[2]!.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    out.push({ type: m[1]!, der: Buffer.from(body, 'base64') });
  }
  return out;
}

/** Splits concatenated DER structures by their outer SEQUENCE lengths. */
function splitDER(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const { len, hdr } = derLength(buf, i);
    out.push(buf.subarray(i, i + hdr + len));
    i += hdr + len;
  }
  return out;
}

function derLength(buf: Buffer, at: number): { len: number; hdr: number } {
  if (buf[at] !== 0x30) throw new BuiltinError('x509: malformed certificate');
  const first = buf[at + 1];
  if (first === undefined) throw new BuiltinError('asn1: structure error: truncated');
  if (first < 0x80) return { len: first, hdr: 2 };
  const n = first & 0x7f;
  let len = 0;
  for (let k = 0; k < n; k++) len = len * 256 + buf[at + 2 + k]!;
  if (at + 2 + n + len > buf.length) throw new BuiltinError('asn1: structure error: data truncated');
  return { len, hdr: 2 + n };
}

function certsFromString(s: string): X509Certificate[] {
  let ders: Buffer[];
  if (s.startsWith('-----BEGIN')) ders = pemBlocks(s).filter((b) => b.type === 'CERTIFICATE').map((b) => b.der);
  else {
    const raw = decodeStdBase64(s);
    if (raw.subarray(0, 10).toString('latin1') === '-----BEGIN') {
      ders = pemBlocks(raw.toString('utf8'))
        .filter((b) => b.type === 'CERTIFICATE')
        .map((b) => b.der);
    } else ders = splitDER(raw);
  }
  return ders.map((d) => {
    try {
      return new X509Certificate(d);
    } catch (e) {
      throw new BuiltinError(`x509: malformed certificate: ${(e as Error).message}`);
    }
  });
}

// ---- names ----

const NAME_FIELDS: Record<string, string> = {
  C: 'Country',
  O: 'Organization',
  OU: 'OrganizationalUnit',
  L: 'Locality',
  ST: 'Province',
  street: 'StreetAddress',
  postalCode: 'PostalCode',
};

/** Go's pkix.Name from Node's "CN=a\nO=b" rendering. */
function pkixName(text: string): RegoObject {
  const fields: Record<string, string[]> = {};
  let cn = '';
  let serial = '';
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1);
    if (k === 'CN') cn = v;
    else if (k === 'serialNumber') serial = v;
    else if (NAME_FIELDS[k]) (fields[NAME_FIELDS[k]!] ??= []).push(v);
  }
  const o = new RegoObject();
  for (const f of Object.values(NAME_FIELDS)) o.set(f, fields[f] ? fields[f]!.slice() : null);
  o.set('SerialNumber', serial).set('CommonName', cn);
  return o;
}

function sans(cert: X509Certificate): { dns: string[]; email: string[]; ip: string[]; uri: string[] } {
  const out = { dns: [] as string[], email: [] as string[], ip: [] as string[], uri: [] as string[] };
  for (const part of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const c = part.indexOf(':');
    if (c < 0) continue;
    const k = part.slice(0, c);
    const v = part.slice(c + 1);
    if (k === 'DNS') out.dns.push(v);
    else if (k === 'email') out.email.push(v);
    else if (k === 'IP Address') out.ip.push(v);
    else if (k === 'URI') out.uri.push(v);
  }
  return out;
}

const listOrNull = (xs: string[]): Value => (xs.length === 0 ? null : xs);

function certValue(cert: X509Certificate): RegoObject {
  const s = sans(cert);
  const o = new RegoObject();
  o.set('Raw', cert.raw.toString('base64'));
  o.set('Version', 3);
  o.set('SerialNumber', fromBigInt(BigInt('0x' + cert.serialNumber)));
  o.set('Issuer', pkixName(cert.issuer));
  o.set('Subject', pkixName(cert.subject));
  o.set('NotBefore', new Date(cert.validFrom).toISOString().replace('.000Z', 'Z'));
  o.set('NotAfter', new Date(cert.validTo).toISOString().replace('.000Z', 'Z'));
  o.set('IsCA', cert.ca);
  o.set('DNSNames', listOrNull(s.dns));
  o.set('EmailAddresses', listOrNull(s.email));
  o.set('IPAddresses', listOrNull(s.ip));
  o.set('URIStrings', listOrNull(s.uri));
  o.set('PublicKeyAlgorithm', publicKeyAlgorithm(cert.publicKey));
  return o;
}

/** Go's x509.PublicKeyAlgorithm numbering. */
function publicKeyAlgorithm(k: KeyObject): number {
  switch (k.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return 1;
    case 'dsa':
      return 2;
    case 'ec':
      return 3;
    case 'ed25519':
      return 4;
    default:
      return 0;
  }
}

/**
 * OPA's input order is root first, intermediates, leaf last; the verified chain comes back
 * leaf first. Each certificate must be current, issued and signed by the next one up, and
 * every issuer must be a CA.
 */
function verifyChain(certs: X509Certificate[], now: Date): X509Certificate[] | undefined {
  if (certs.length < 2) throw new BuiltinError('operand 1 must supply at least two certificates to be able to verify');
  const chain = [...certs].reverse();
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    if (now < new Date(c.validFrom) || now > new Date(c.validTo)) return undefined;
    const issuer = chain[i + 1] ?? c;
    if (!c.checkIssued(issuer) || !c.verify(issuer.publicKey)) return undefined;
    if (i > 0 && !c.ca) return undefined;
  }
  return chain;
}

// ---- CSR: Node has no parser, so read the subject from the DER directly ----

interface Node {
  tag: number;
  start: number; // content start
  end: number;
}

function readNode(buf: Buffer, at: number): Node {
  const tag = buf[at];
  const first = buf[at + 1];
  if (tag === undefined || first === undefined) throw new BuiltinError('asn1: structure error: truncated tag or length');
  let len = first;
  let hdr = 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + (buf[at + 2 + k] ?? 0);
    hdr += n;
  }
  if (at + hdr + len > buf.length) throw new BuiltinError('asn1: structure error: data truncated');
  return { tag, start: at + hdr, end: at + hdr + len };
}

function children(buf: Buffer, n: Node): Node[] {
  const out: Node[] = [];
  for (let i = n.start; i < n.end; ) {
    const c = readNode(buf, i);
    out.push(c);
    i = c.end;
  }
  return out;
}

const OIDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.17': 'postalCode',
  '2.5.4.5': 'serialNumber',
};

function oid(buf: Buffer, n: Node): string {
  const b = buf.subarray(n.start, n.end);
  const parts = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function csrValue(der: Buffer): RegoObject {
  const root = readNode(der, 0);
  if (root.tag !== 0x30) throw new BuiltinError('asn1: structure error: tags don\'t match');
  const [info] = children(der, root);
  if (!info || info.tag !== 0x30) throw new BuiltinError('asn1: structure error: tags don\'t match');
  const [, subject] = children(der, info);
  if (!subject) throw new BuiltinError('asn1: structure error: missing subject');
  const lines: string[] = [];
  for (const rdn of children(der, subject)) {
    for (const atv of children(der, rdn)) {
      const [o, v] = children(der, atv);
      if (!o || !v) continue;
      const name = OIDS[oid(der, o)];
      if (name) lines.push(`${name}=${der.subarray(v.start, v.end).toString('utf8')}`);
    }
  }
  const out = new RegoObject();
  out.set('Raw', der.toString('base64'));
  out.set('Subject', pkixName(lines.join('\n')));
  return out;
}

function csrDER(s: string): Buffer {
  if (s.startsWith('-----BEGIN')) {
    const b = pemBlocks(s)[0];
    if (!b) throw new BuiltinError('invalid PEM-encoded certificate signing request');
    return b.der;
  }
  const raw = decodeStdBase64(s);
  if (raw.subarray(0, 10).toString('latin1') === '-----BEGIN') return csrDER(raw.toString('utf8'));
  return raw;
}

// ---- keys ----

function keyJWK(k: KeyObject): Value {
  return fromJSON(k.export({ format: 'jwk' }));
}

function privateKeysFrom(s: string): KeyObject[] {
  let text = s;
  if (!text.startsWith('-----BEGIN')) {
    try {
      text = decodeStdBase64(s).toString('utf8');
    } catch {
      return [];
    }
  }
  const keys: KeyObject[] = [];
  for (const m of text.matchAll(/-----BEGIN ([A-Z ]*PRIVATE KEY)-----[\s\S]*?-----END \1-----/g)) {
    try {
      keys.push(createPrivateKey(m[0]));
    } catch {
      /* not a key we can read */
    }
  }
  return keys;
}

export function register(r: BuiltinRegistry): void {
  def(r, 'crypto.x509.parse_certificates', 1, (args) => certsFromString(stringArg(args, 0)).map(certValue));
  def(r, 'crypto.x509.parse_and_verify_certificates', 1, (args, ctx) => {
    const certs = certsFromString(stringArg(args, 0));
    const now = new Date(Number(ctx.timeNs / 1_000_000n));
    const chain = verifyChain(certs, now);
    return chain ? [true, chain.map(certValue)] : [false, []];
  });
  def(r, 'crypto.x509.parse_certificate_request', 1, (args) => csrValue(csrDER(stringArg(args, 0))));
  def(r, 'crypto.x509.parse_rsa_private_key', 1, (args) => {
    const s = stringArg(args, 0);
    const text = s.startsWith('-----BEGIN') ? s : decodeStdBase64(s).toString('utf8');
    const block = pemBlocks(text)[0];
    if (!block) throw new BuiltinError('failed to parse PEM block containing the key');
    try {
      return keyJWK(createPrivateKey(text));
    } catch (e) {
      throw new BuiltinError(`x509: failed to parse private key: ${(e as Error).message}`);
    }
  });
  def(r, 'crypto.parse_private_keys', 1, (args) => {
    const s = stringArg(args, 0);
    if (s === '') return null;
    return privateKeysFrom(s).map(keyJWK);
  });
  def(r, 'crypto.x509.parse_keypair', 2, (args) => {
    const certText = stringArg(args, 0);
    const keyText = stringArg(args, 1);
    const pemOf = (t: string): string => (t.startsWith('-----BEGIN') ? t : decodeStdBase64(t).toString('utf8'));
    const certs = pemBlocks(pemOf(certText)).filter((b) => b.type === 'CERTIFICATE');
    if (certs.length === 0) throw new BuiltinError('tls: failed to find any PEM data in certificate input');
    let key: KeyObject;
    try {
      key = createPrivateKey(pemOf(keyText));
    } catch {
      throw new BuiltinError('tls: failed to find any PEM data in key input');
    }
    const leaf = new X509Certificate(certs[0]!.der);
    if (!leaf.checkPrivateKey(key)) throw new BuiltinError('tls: private key does not match public key');
    return RegoObject.fromRecord({
      Certificate: certs.map((c) => c.der.toString('base64')),
      PrivateKey: keyJWK(key),
      Leaf: null,
    });
  });
}


