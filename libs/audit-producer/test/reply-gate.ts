import { connect, createServer, type Socket } from 'node:net';

export interface ReplyGate {
  /** The relay's redis:// URL (same database as the target). */
  readonly url: string;
  /** From now on Redis's replies are kept back: what is sent stays on the wire. */
  hold(): void;
  /** Delivers the kept replies in order, and the ones after at once. */
  release(): void;
  close(): Promise<void>;
}

/** A TCP relay in front of Redis whose replies can be kept back, to see what happens while an add is unanswered. */
export async function startReplyGate(target: string): Promise<ReplyGate> {
  const to = new URL(target);
  let kept: Array<[Socket, Buffer]> | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const redis = connect(Number(to.port || 6379), to.hostname);
    for (const s of [client, redis]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => {
        client.destroy();
        redis.destroy();
      });
    }
    client.pipe(redis);
    redis.on('data', (chunk: Buffer) => (kept ? kept.push([client, chunk]) : client.write(chunk)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const relay = new URL(target);
  relay.hostname = '127.0.0.1';
  relay.port = String((server.address() as { port: number }).port);
  return {
    url: relay.toString(),
    hold: () => void (kept ??= []),
    release() {
      const replies = kept ?? [];
      kept = undefined;
      for (const [client, chunk] of replies) client.write(chunk);
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
