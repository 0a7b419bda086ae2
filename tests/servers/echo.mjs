// An HTTPS upstream for the proxy tests: it answers every request with what it received, so a
// test can see which headers arrived through `authsome run`.
//
// Usage: node echo.mjs --cert=FILE --key=FILE [--host=127.0.0.2] [--port=0] [--h2]
// With --h2 it speaks only HTTP/2 (ALPN h2, no HTTP/1.1 fallback, so no upgrades).
// Prints one JSON line when listening: {"issuer":"https://HOST:PORT","port":PORT}
// Exits when stdin closes.
//
// Routes:
//   GET /__log          every request seen so far (not itself), as JSON
//   /status/NNN         answers with status NNN
//   /reject-first       401 for the first Authorization value it sees (and that value again),
//                       200 for any other: a token the provider revoked, then a refreshed one
//   /stream             the echo, written in 7-byte chunks without a Content-Length
//   /echo-header        the received Authorization in an `x-echo` response header
//   /redirect?to=URL    302 to URL
//   .../say?text=TEXT   200 with TEXT as the body (an API that echoes what it was sent)
//   anything else       200 with {"method","path","headers","body"}
//   an Upgrade request  101 (a WebSocket handshake), then every byte sent is echoed back
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.join('=')];
  }),
);
const host = args.host || '127.0.0.2';
const seen = [];
const rejected = new Set();

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

// Large headers allowed, so a size limit a test meets is the proxy's, not this server's.
const tls = { key: fs.readFileSync(args.key), cert: fs.readFileSync(args.cert) };
const create = 'h2' in args
  ? (handler) => http2.createSecureServer({ ...tls, allowHTTP1: false, maxSessionMemory: 64 }, handler)
  : (handler) => https.createServer({ ...tls, maxHeaderSize: 1 << 20 }, handler);
const server = create(
  (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'https://upstream');
      if (url.pathname === '/__log') return json(res, 200, seen);
      // HTTP/2's pseudo-headers are not headers; `:authority` stands in for Host.
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !k.startsWith(':')));
      if (req.headers[':authority'] && !headers.host) headers.host = req.headers[':authority'];
      const record = {
        method: req.method,
        path: req.url,
        version: req.httpVersion,
        // Which connection it came over (the proxy's side): requests on one connection share it.
        peer: req.socket.remotePort,
        headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(record);
      if (url.pathname.startsWith('/status/')) return json(res, Number(url.pathname.slice(8)), record);
      if (url.pathname === '/reject-first') {
        const auth = req.headers.authorization || '';
        if (rejected.size === 0 || rejected.has(auth)) {
          rejected.add(auth);
          // Chunked, as big APIs answer: the proxy must not wait on this body to retry.
          res.writeHead(401, { 'content-type': 'application/json' });
          res.write('{"error":');
          return res.end('"invalid_token"}');
        }
      }
      if (url.pathname === '/stream') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const text = JSON.stringify(record);
        for (let i = 0; i < text.length; i += 7) res.write(text.slice(i, i + 7));
        return res.end();
      }
      if (url.pathname === '/echo-header') {
        res.writeHead(200, { 'x-echo': req.headers.authorization || '', 'content-length': 2 });
        return res.end('ok');
      }
      if (url.pathname.endsWith('/say')) {
        const text = url.searchParams.get('text') || '';
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
        return res.end(text);
      }
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: url.searchParams.get('to') || '/', 'content-length': 0 });
        return res.end();
      }
      return json(res, 200, record);
    });
  },
);
server.on('upgrade', (req, socket) => {
  seen.push({ method: req.method, path: req.url, headers: req.headers, body: '' });
  const accept = createHash('sha1')
    .update(`${req.headers['sec-websocket-key'] || ''}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  // Raw bytes back, no WebSocket framing: the test checks the tunnel, not the protocol.
  socket.pipe(socket);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(args.port || 0), host, () => {
  const { port } = server.address();
  console.log(JSON.stringify({ issuer: `https://${host}:${port}`, port }));
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
