// Go's url.PathEscape: OPA prints storage paths (storage.Path.String()) and normalises mask paths
// with it, so messages and masks match OPA's to the byte.
const PATH_SAFE = /^[A-Za-z0-9\-_.~$&+:=@]$/;

export function pathEscape(segment: string): string {
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && PATH_SAFE.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
