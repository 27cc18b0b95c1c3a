/**
 * oidc-provider 8 as the benchmark's baseline, in its own process: one confidential client with
 * client_credentials and introspection, opaque tokens by default and ES256 JWT access tokens for
 * the resource `urn:bench:jwt`. Prints one JSON line `{url}` when it listens.
 */
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const CLIENT_ID = process.env.BENCH_CLIENT_ID ?? 'gateway';
const CLIENT_SECRET = process.env.BENCH_CLIENT_SECRET ?? 'bench-secret';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256', use: 'sig' }] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== 'urn:bench:jwt') throw new Error(`unknown resource ${resource}`);
          return { scope: 'api', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
  });
  provider.proxy = false;
  server.on('request', provider.callback());
  console.log(JSON.stringify({ url: issuer }));
});
