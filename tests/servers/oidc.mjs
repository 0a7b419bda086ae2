// Real OpenID Provider (panva/oidc-provider 9.x, in memory) for authsome tests.
//
// Usage: node oidc.mjs [PORT] [--consent] [--interval=SECONDS]
//   PORT            listen on 127.0.0.1:PORT (default 0 = any free port)
//   --consent       do NOT auto-grant: the devInteractions consent form must be submitted
//   --interval=N    `interval` added to the device authorization response (default 1;
//                   oidc-provider omits it and the oauth2 crate then waits 5 s per poll)
//
// Prints exactly one line of JSON to stdout once listening:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT}
// Everything else (oidc-provider warnings, request errors) goes to stderr.
// Exits when stdin reaches EOF (the parent dropped the pipe) or on SIGTERM/SIGINT.
//
// Endpoints (relative to the issuer):
//   GET  /.well-known/openid-configuration   discovery
//   POST /device/auth                        device authorization (RFC 8628)
//   GET  /device, POST /device               verification_uri: user-code form / confirm form
//   GET  /auth                               authorization endpoint (code + PKCE S256 required)
//   GET/POST /interaction/:uid               devInteractions login (and consent with --consent)
//   POST /token                              authorization_code, refresh_token, device_code
//   POST /token/revocation                   revocation (RFC 7009)
//   POST /token/introspection                introspection (RFC 7662)
//   GET  /me                                 userinfo (needs the openid scope)
//   GET  /jwks                               signing keys
//
// Client: `authsome-device`, public (token_endpoint_auth_method none), application_type native,
// redirect_uris ["http://127.0.0.1/callback"]; any loopback port is accepted (RFC 8252 7.3),
// e.g. http://127.0.0.1:54321/callback. Refresh tokens are always issued (no offline_access
// needed) and rotated on every use. Any login name/password is accepted.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { interactionPolicy } from 'oidc-provider';

const args = process.argv.slice(2);
const portArg = args.find((a) => /^\d+$/.test(a));
const requireConsent = args.includes('--consent');
const intervalArg = args.find((a) => a.startsWith('--interval='));
const deviceInterval = intervalArg ? Number(intervalArg.split('=')[1]) : 1;

const CLIENT_ID = 'authsome-device';
const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'read', 'write'];

// Auto-consent: drop the `native_client_prompt` check (native clients always get a consent
// prompt otherwise) and grant every requested scope in loadExistingGrant below.
const policy = interactionPolicy.base();
if (!requireConsent) policy.get('consent').checks.remove('native_client_prompt');

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(portArg ? Number(portArg) : 0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_name: 'authsome test client',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: [
      'urn:ietf:params:oauth:grant-type:device_code',
      'refresh_token',
      'authorization_code',
    ],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  }],
  jwks: { keys: [{ ...signingKey, kid: 'test-rs256', alg: 'RS256', use: 'sig' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: SCOPES,
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub, name: sub, preferred_username: sub, email: `${sub}@example.test`, email_verified: true,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    // Open dynamic client registration (RFC 7591) at /reg, for the dcr_pkce flow.
    registration: { enabled: true },
    // Default on in v9; with no `resource` parameter tokens are opaque userinfo tokens.
    resourceIndicators: { enabled: false },
  },
  pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  // Skip the consent prompt: every requested scope is granted (unless --consent).
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    if (requireConsent || !ctx.oidc.session.accountId) return grant;
    grant ??= new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    if (ctx.oidc.params.scope) grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  interactions: { policy },
  clientBasedCORS: () => true,
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    ClientCredentials: 600,
    DeviceCode: 600,
    IdToken: 600,
    RefreshToken: 24 * 60 * 60,
    Interaction: 600,
    Session: 24 * 60 * 60,
    Grant: 24 * 60 * 60,
  },
});

// RFC 8628 `interval`, so clients do not fall back to their 5 s default.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/device/auth' && ctx.status === 200
      && ctx.body && typeof ctx.body === 'object' && deviceInterval > 0) {
    ctx.body.interval = deviceInterval;
  }
});

provider.on('server_error', (_ctx, err) => console.error('oidc server_error:', err));

server.on('request', provider.callback());

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// Only announce readiness once the stop handlers are installed (a parent may signal at once).
process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
