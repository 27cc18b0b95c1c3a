import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends bytes exactly as given (fetch and supertest normalise paths and refuse odd headers, which
 * is what the security cases need to send) and reads one response until the server closes or the
 * body is complete.
 */
export function rawRequest(url: string, text: string, timeoutMs = 5000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no complete answer within ${timeoutMs} ms: ${data.toString()}`))), timeoutMs);
    const tryParse = (final: boolean) => {
      const s = data.toString('latin1');
      const end = s.indexOf('\r\n\r\n');
      if (end < 0) return final ? finish(undefined) : undefined;
      const [statusLine, ...lines] = s.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const body = s.slice(end + 4);
      const length = headers['content-length'];
      if (!final && length !== undefined && Buffer.byteLength(body, 'latin1') < Number(length)) return undefined;
      if (!final && length === undefined && headers['transfer-encoding'] !== 'chunked') return undefined;
      if (!final && headers['transfer-encoding'] === 'chunked' && !body.endsWith('0\r\n\r\n')) return undefined;
      finish({ status: Number(statusLine!.split(' ')[1]), headers, body: headers['transfer-encoding'] === 'chunked' ? dechunk(body) : body });
    };
    const finish = (r: RawResponse | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (r) resolve(r);
      else reject(new Error(`connection closed without a response: ${JSON.stringify(data.toString())}`));
    };
    socket.on('data', (c: Buffer) => {
      data = Buffer.concat([data, c]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('error', (err) => (clearTimeout(timer), reject(err)));
    socket.write(text);
  });
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
