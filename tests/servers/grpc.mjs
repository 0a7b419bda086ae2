// A real gRPC server and client (@grpc/grpc-js) for the proxy tests. Messages are JSON (custom
// serializers), so no .proto files or code generation are needed; the wire is gRPC over HTTP/2.
//
// Server: node grpc.mjs server --cert=FILE --key=FILE --log=FILE [--host=127.0.0.2]
//   Appends {"method","authorization"} for each call to the log (what arrived, unredacted).
//   Prints {"issuer":"https://HOST:PORT","port":PORT} when listening; exits when stdin closes.
//   test.Echo/Unary         {text} -> {text, authorization}
//   test.Echo/Stream        {text} -> three {text, authorization, n}, then trailers x-done: yes
//   test.Echo/Chat          each {text} -> {text, authorization}, until the client ends
//   test.Echo/Fail          -> status NOT_FOUND "no such thing" (in trailers)
//
// Client: node grpc.mjs client --target=HOST:PORT
//   Calls all four over TLS (roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, the proxy from
//   https_proxy, as grpc-js reads them) and prints one JSON object with what came back.
import fs from 'node:fs';
import grpc from '@grpc/grpc-js';

const args = Object.fromEntries(
  process.argv.slice(3).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.join('=')];
  }),
);

const json = {
  requestSerialize: (o) => Buffer.from(JSON.stringify(o)),
  requestDeserialize: (b) => JSON.parse(b.toString()),
  responseSerialize: (o) => Buffer.from(JSON.stringify(o)),
  responseDeserialize: (b) => JSON.parse(b.toString()),
};
const service = {
  Unary: { path: '/test.Echo/Unary', requestStream: false, responseStream: false, ...json },
  Stream: { path: '/test.Echo/Stream', requestStream: false, responseStream: true, ...json },
  Chat: { path: '/test.Echo/Chat', requestStream: true, responseStream: true, ...json },
  Fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, ...json },
};

function server() {
  const auth = (call) => {
    const value = String(call.metadata.get('authorization')[0] || '');
    fs.appendFileSync(args.log, `${JSON.stringify({ method: call.getPath(), authorization: value })}\n`);
    return value;
  };
  const s = new grpc.Server();
  s.addService(service, {
    Unary: (call, done) => done(null, { text: call.request.text, authorization: auth(call) }),
    Stream: (call) => {
      for (let n = 0; n < 3; n++) call.write({ text: call.request.text, authorization: auth(call), n });
      const trailers = new grpc.Metadata();
      trailers.set('x-done', 'yes');
      call.end(trailers);
    },
    Chat: (call) => {
      call.on('data', (m) => call.write({ text: m.text, authorization: auth(call) }));
      call.on('end', () => call.end());
    },
    Fail: (call, done) => {
      auth(call);
      done({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    },
  });
  const creds = grpc.ServerCredentials.createSsl(null, [
    { private_key: fs.readFileSync(args.key), cert_chain: fs.readFileSync(args.cert) },
  ]);
  const host = args.host || '127.0.0.2';
  s.bindAsync(`${host}:0`, creds, (err, port) => {
    if (err) throw err;
    console.log(JSON.stringify({ issuer: `https://${host}:${port}`, port }));
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
}

async function client() {
  const Client = grpc.makeGenericClientConstructor(service, 'Echo');
  const c = new Client(args.target, grpc.credentials.createSsl());
  const deadline = () => ({ deadline: Date.now() + 20_000 });
  const unary = await new Promise((resolve, reject) =>
    c.Unary({ text: 'one' }, new grpc.Metadata(), deadline(), (e, r) => (e ? reject(e) : resolve(r))),
  );
  const stream = await new Promise((resolve, reject) => {
    const got = [];
    let trailers = {};
    const call = c.Stream({ text: 'many' }, new grpc.Metadata(), deadline());
    call.on('data', (m) => got.push(m));
    call.on('status', (s) => {
      trailers = { code: s.code, done: s.metadata.get('x-done')[0] || null };
    });
    call.on('error', reject);
    call.on('end', () => setImmediate(() => resolve({ messages: got, trailers })));
  });
  const chat = await new Promise((resolve, reject) => {
    const got = [];
    const call = c.Chat(new grpc.Metadata(), deadline());
    // Each message goes out only after the previous answer came back: a proxy that held the
    // request body until it ended would stall here.
    const texts = ['a', 'b', 'c'];
    call.on('data', (m) => {
      got.push(m);
      if (texts.length) call.write({ text: texts.shift() });
      else call.end();
    });
    call.on('error', reject);
    call.on('end', () => resolve(got));
    call.write({ text: texts.shift() });
  });
  const fail = await new Promise((resolve) =>
    c.Fail({}, new grpc.Metadata(), deadline(), (e) => resolve({ code: e && e.code, details: e && e.details })),
  );
  console.log(JSON.stringify({ unary, stream, chat, fail, env: process.env }));
  c.close();
}

if (process.argv[2] === 'server') server();
else client().catch((e) => {
  console.error(`grpc client failed: ${e.message}`);
  process.exit(1);
});
