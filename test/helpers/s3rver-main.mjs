// The S3 server for tests, in a process of its own (test/helpers/s3.ts starts it): s3rver on 127.0.0.1 and a free
// port, its data in the directory given as the first argument. Node runs it with --openssl-legacy-provider: s3rver
// seals its list continuation tokens with DES, which OpenSSL 3 keeps only there. Prints the port as one JSON line,
// then one JSON line per request (method, path, query, body length) so tests can see what the server served; ends with its parent.
import S3rver from 's3rver';

const server = new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[2], silent: true });
server.middleware.unshift(async (ctx, next) => {
  process.stdout.write(`${JSON.stringify({ method: ctx.method, path: ctx.path, query: ctx.querystring, length: ctx.request.length ?? null })}\n`);
  await next();
});
server.run().then(
  (address) => process.stdout.write(`${JSON.stringify({ port: address.port })}\n`),
  (err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
// stdin closes when the parent goes, whatever way it went
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
