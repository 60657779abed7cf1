// The S3 server for tests, in a process of its own (test/helpers/s3.ts starts it): s3rver on 127.0.0.1 and a free
// port, its data in the directory given as the first argument. Node runs it with --openssl-legacy-provider: s3rver
// seals its list continuation tokens with DES, which OpenSSL 3 keeps only there. Prints the port as one JSON line,
// then one JSON line per request (method, path, query, body length) so tests can see what the server served (none
// with --quiet); ends with its parent.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';

// s3rver answers a PUT (of an object or a part) once its bytes went into the file stream, before they are in the
// file, and writes over the object in place: a read right after a write can see a short or empty object, where S3
// reads its own writes whole. Its writes here go to a temporary file that is renamed over the object once complete.
async function writeWhole(path, content) {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const md5 = createHash('md5');
  let size = 0;
  const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
  const count = new Transform({
    transform(chunk, _enc, cb) {
      md5.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(source, count, createWriteStream(tmp));
  await rename(tmp, path);
  return [size, md5.digest('hex')];
}
FilesystemStore.prototype.putObject = async function putObject(object) {
  const [size, md5] = await writeWhole(this.getResourcePath(object.bucket, object.key, 'object'), object.content);
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size, md5 };
};
FilesystemStore.prototype.putPart = async function putPart(bucket, uploadId, partNumber, content) {
  const partPath = `${this.getResourcePath(bucket, undefined, 'uploads')}/${uploadId}/${partNumber}`;
  const [size, md5] = await writeWhole(partPath, content);
  await writeFile(`${partPath}.md5`, md5);
  return { size, md5 };
};

const server = new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[2], silent: true });
// --quiet (the benchmark): no request lines, which would cost the reading process as much as the server
const quiet = process.argv.includes('--quiet');
server.middleware.unshift(async (ctx, next) => {
  if (!quiet) process.stdout.write(`${JSON.stringify({ method: ctx.method, path: ctx.path, query: ctx.querystring, length: ctx.request.length ?? null })}\n`);
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
