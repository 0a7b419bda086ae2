// OAuth2 mock server (npm oauth2-mock-server 8.2.3, hardened) for authsome tests.
//
// Usage: node mock.mjs [PORT] [--expires-in=SECONDS] [--refresh-expires-in=SECONDS] [--no-rotate]
//   PORT               listen on 127.0.0.1:PORT (default 0 = any free port)
//   --expires-in=N     expires_in / JWT exp of issued access tokens (default 3600)
//
// Prints exactly one line of JSON to stdout once listening:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT}
// Exits when stdin reaches EOF (the parent dropped the pipe) or on SIGTERM/SIGINT.
//
// Endpoints (relative to the issuer; no trailing slash):
//   GET  /.well-known/openid-configuration  discovery document
//   GET  /authorize   auto-approves, 302 to redirect_uri?code=..&state=..  (no login page)
//                     REQUIRES code_challenge + code_challenge_method=S256, else 302 with
//                     error=invalid_request
//   POST /token       grant_type=authorization_code (code single-use, redirect_uri must match,
//                       code_verifier checked against the S256 challenge -> invalid_grant)
//                     grant_type=refresh_token (must be a refresh token issued here and not
//                       revoked; old ones stay valid, i.e. no enforced rotation)
//                     grant_type=client_credentials (no refresh_token in the response)
//                     anything else -> 400 unsupported_grant_type
//                     Response: {access_token (RS256 JWT), token_type:"Bearer", expires_in,
//                       scope (space-separated, echoes the request / the authorize scope; omitted
//                       if none was requested), id_token + refresh_token (not for client_credentials)}
//                     Client authentication is NOT checked (any client_id/secret, Basic or body).
//   POST /revoke      RFC 7009; always 200 (400 if `token` is missing); revoked refresh tokens
//                     are rejected afterwards by /token
//   GET  /jwks        public RS256 key
//   GET  /userinfo    {"sub":"johndoe"} (bearer not checked)
//   POST /introspect  {"active":true}
//   GET  /endsession  redirects to post_logout_redirect_uri
// Test-only routes (not logged):
//   GET    /__requests[?path=/revoke]  JSON array of received requests, oldest first:
//            {seq, method, path, status, param_names:[sorted query+body names],
//             params:{non-secret name: value}, sha256:{secret name: sha256 hex of value},
//             auth: null | {scheme:"Basic", user} | {scheme:"Bearer", sha256}}
//            Secret names: code, code_verifier, refresh_token, access_token, token, device_code,
//            client_secret, password, assertion, client_assertion, id_token_hint.
//   DELETE /__requests   clears the log (204)
import { createServer } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

const args = process.argv.slice(2);
const portArg = args.find((a) => /^\d+$/.test(a));
const expiresArg = args.find((a) => a.startsWith('--expires-in='));
const expiresIn = expiresArg ? Number(expiresArg.split('=')[1]) : undefined;
// --no-rotate: a refresh answers without a new refresh token (the old one stays in use).
const noRotate = args.includes('--no-rotate');
// --refresh-expires-in=N: expires_in of tokens issued by a refresh (default: as --expires-in).
const refreshExpiresArg = args.find((a) => a.startsWith('--refresh-expires-in='));
const refreshExpiresIn = refreshExpiresArg ? Number(refreshExpiresArg.split('=')[1]) : undefined;

const SECRET_PARAMS = new Set([
  'code', 'code_verifier', 'refresh_token', 'access_token', 'token', 'device_code',
  'client_secret', 'password', 'assertion', 'client_assertion', 'id_token_hint',
]);
const GRANTS = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

const sha256hex = (s) => createHash('sha256').update(String(s), 'utf8').digest('hex');
const s256 = (v) => createHash('sha256').update(v, 'ascii').digest('base64url');

const issuer = new OAuth2Issuer();
await issuer.keys.generate('RS256');
const service = new OAuth2Service(issuer);

const codes = new Map(); // code -> {client_id, redirect_uri, scope, challenge}
const refreshTokens = new Map(); // refresh token -> {scope, client_id, revoked}
const log = [];
let seq = 0;

service.on('beforeAuthorizeRedirect', ({ url }, req) => {
  const code = url.searchParams.get('code');
  if (!code) return;
  const q = req.query;
  codes.set(code, {
    client_id: q.client_id, redirect_uri: q.redirect_uri, scope: q.scope, challenge: q.code_challenge,
  });
});

service.on('beforeTokenSigning', (token) => {
  if (expiresIn !== undefined) token.payload.exp = token.payload.iat + expiresIn;
  // Every token unique, as real servers issue them: two tokens issued in the same second
  // must not be equal.
  token.payload.jti = randomUUID();
});

service.on('beforeResponse', (resp, req) => {
  if (resp.statusCode !== 200) return;
  if (expiresIn !== undefined) resp.body.expires_in = expiresIn;
  if (req.requestedScope === undefined) delete resp.body.scope;
  if (req.body?.grant_type === 'refresh_token') {
    if (noRotate) delete resp.body.refresh_token;
    if (refreshExpiresIn !== undefined) resp.body.expires_in = refreshExpiresIn;
  }
  if (resp.body.refresh_token) {
    refreshTokens.set(resp.body.refresh_token, {
      scope: req.requestedScope, client_id: req.clientId, revoked: false,
    });
  }
});

function basicUser(req) {
  const h = req.headers.authorization;
  if (!h || !/^basic /i.test(h)) return undefined;
  const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return decodeURIComponent(i === -1 ? decoded : decoded.slice(0, i));
}

function record(req, path, query, body) {
  const all = { ...query, ...body };
  const params = {};
  const hashed = {};
  for (const [k, v] of Object.entries(all)) {
    if (SECRET_PARAMS.has(k)) hashed[k] = Array.isArray(v) ? v.map(sha256hex) : sha256hex(v);
    else params[k] = v;
  }
  let auth = null;
  const h = req.headers.authorization;
  if (h && /^basic /i.test(h)) auth = { scheme: 'Basic', user: basicUser(req) ?? '' };
  else if (h && /^bearer /i.test(h)) auth = { scheme: 'Bearer', sha256: sha256hex(h.slice(7).trim()) };
  const entry = {
    seq: ++seq,
    method: req.method,
    path,
    status: null,
    param_names: Object.keys(all).sort(),
    params,
    sha256: hashed,
    auth,
  };
  log.push(entry);
  return entry;
}

function sendJson(res, status, body) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

const oauthError = (res, status, error, description) => sendJson(res, status, { error, error_description: description });

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

// Returns true when the request was answered here (rejected), false to hand over to the library.
function checkToken(req, res, body) {
  const grant = body.grant_type;
  if (typeof grant !== 'string' || !GRANTS.has(grant)) {
    oauthError(res, 400, 'unsupported_grant_type', `grant_type ${JSON.stringify(grant)} is not supported`);
    return true;
  }
  req.clientId = basicUser(req) ?? body.client_id;
  req.requestedScope = typeof body.scope === 'string' ? body.scope : undefined;
  if (grant === 'authorization_code') {
    const rec = typeof body.code === 'string' ? codes.get(body.code) : undefined;
    if (!rec) return oauthError(res, 400, 'invalid_grant', 'unknown or already used code'), true;
    codes.delete(body.code);
    if (body.redirect_uri !== rec.redirect_uri) {
      return oauthError(res, 400, 'invalid_grant', 'redirect_uri does not match the authorization request'), true;
    }
    if (rec.client_id !== undefined && req.clientId !== undefined && rec.client_id !== req.clientId) {
      return oauthError(res, 400, 'invalid_grant', 'code was issued to another client'), true;
    }
    if (typeof body.code_verifier !== 'string' || !/^[A-Za-z0-9\-._~]{43,128}$/.test(body.code_verifier)) {
      return oauthError(res, 400, 'invalid_grant', 'missing or malformed code_verifier'), true;
    }
    if (s256(body.code_verifier) !== rec.challenge) {
      return oauthError(res, 400, 'invalid_grant', 'code_verifier does not match code_challenge'), true;
    }
    req.requestedScope ??= rec.scope;
  } else if (grant === 'refresh_token') {
    const rec = typeof body.refresh_token === 'string' ? refreshTokens.get(body.refresh_token) : undefined;
    if (!rec || rec.revoked) return oauthError(res, 400, 'invalid_grant', 'unknown or revoked refresh token'), true;
    req.requestedScope ??= rec.scope;
  }
  if (req.requestedScope !== undefined) body.scope = req.requestedScope;
  return false;
}

function checkAuthorize(res, query) {
  const { redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: method, state } = query;
  let url;
  try { url = new URL(redirectUri); } catch { return oauthError(res, 400, 'invalid_request', 'missing or invalid redirect_uri'), true; }
  if (query.response_type === 'code' && (typeof challenge !== 'string' || method !== 'S256')) {
    url.searchParams.set('error', 'invalid_request');
    url.searchParams.set('error_description', 'PKCE with code_challenge_method=S256 is required');
    if (typeof state === 'string') url.searchParams.set('state', state);
    res.writeHead(302, { location: url.href });
    res.end();
    return true;
  }
  return false;
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer.url);
    const path = url.pathname;
    if (path === '/__requests') {
      if (req.method === 'DELETE') { log.length = 0; res.writeHead(204); res.end(); return; }
      const only = url.searchParams.get('path');
      sendJson(res, 200, only ? log.filter((e) => e.path === only) : log);
      return;
    }
    const query = parseQuery(url.search.slice(1));
    let body = {};
    if (req.method === 'POST') {
      const raw = await readBody(req); // the library's body parsers skip an already-read stream
      const type = (req.headers['content-type'] || '').toLowerCase();
      if (type.startsWith('application/json')) {
        try { body = raw ? JSON.parse(raw) : {}; } catch { body = null; }
      } else {
        body = parseQuery(raw);
      }
      req.body = body;
    }
    const entry = record(req, path, query, body && typeof body === 'object' ? body : {});
    res.on('finish', () => { entry.status = res.statusCode; });
    if (body === null) return oauthError(res, 400, 'invalid_request', 'malformed JSON body');

    if (req.method === 'POST' && path === '/token' && checkToken(req, res, body)) return;
    if (req.method === 'GET' && path === '/authorize' && checkAuthorize(res, query)) return;
    if (req.method === 'POST' && path === '/revoke') {
      if (typeof body.token !== 'string') return oauthError(res, 400, 'invalid_request', 'missing token');
      const rec = refreshTokens.get(body.token);
      if (rec) rec.revoked = true;
    }
    service.requestHandler(req, res);
  } catch (err) {
    console.error('mock error:', err);
    if (!res.headersSent) oauthError(res, 500, 'server_error', String(err));
  }
});

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(portArg ? Number(portArg) : 0, '127.0.0.1', resolve);
});
const { port } = server.address();
// The library would advertise http://localhost:PORT for 127.0.0.1; pin the literal address.
issuer.url = `http://127.0.0.1:${port}`;

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
process.stdout.write(`${JSON.stringify({ issuer: issuer.url, port })}\n`);
