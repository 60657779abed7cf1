/**
 * Upload sessions on S3: an append writes its bytes as one new object under the upload's prefix (a piece, streamed: a
 * multipart upload when it is large); the session's state (its pieces and a generation) is a row in the metadata
 * database (UploadRecords), replaced only by the writer that read its generation. Any node continues, reads back or
 * commits any upload, and a session that is only opened and then finished with the whole blob (POST, then PUT with
 * the body) costs the bucket nothing but the blob. Small pieces are merged in the bucket as they come (two neighbours
 * of like size become one, as a binary counter carries) until they reach a part's size, so a client sending 1 KiB
 * chunks leaves O(log n) pieces, not n. Commit joins the pieces with one multipart upload (parts of at least MIN_PART
 * but the last, at most MAX_PARTS) and copies the result to its blob key.
 */
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Keys } from '../paths.js';
import { UploadNotFoundError, UploadOffsetMismatchError, type UploadRecords, type UploadState } from '../port.js';
import { MIN_PART, PART_SIZE, token, type Bucket } from './s3-bucket.js';

/**
 * The driver's upload state: the bytes are the concatenation of `pieces` (size and object name under the upload's
 * prefix), `gen` counts the appends. Pieces are immutable and never removed before the upload is committed or
 * aborted, so any state handed out stays readable (a commit of an older state, a hash rebuilt on another node).
 */
type S3UploadState = UploadState & { gen: number; pieces: [number, string][] };

export class S3Uploads {
  constructor(
    private readonly b: Bucket,
    private readonly records: UploadRecords,
  ) {}

  async createUpload(id: string): Promise<UploadState> {
    const state: S3UploadState = { size: 0, gen: 0, pieces: [] };
    if (await this.records.insert(id, JSON.stringify(state), Date.now())) return state;
    // created meanwhile by a retried request on another node: its state counts
    return this.readState(id);
  }

  async uploadStatus(id: string): Promise<UploadState> {
    return this.readState(id);
  }

  async appendUpload(id: string, state: UploadState, source: Readable): Promise<UploadState> {
    // An error of `source` before the write has started would have no listener yet: keep it and fail with it.
    let early: unknown;
    const onEarly = (err: unknown) => void (early ??= err);
    source.on('error', onEarly);
    try {
      const current = await this.readState(id);
      const given = state as S3UploadState;
      if (current.gen !== given.gen || current.size !== given.size) throw new UploadOffsetMismatchError(id, state.size, current.size);
      if (early) throw early;
      const gen = current.gen + 1;
      const name = pieceName(gen);
      const written = await this.writePiece(id, name, source);
      if (written === 0) return current;
      const pieces = await this.mergeSmall(id, gen, [...current.pieces, [written, name]]);
      const next: S3UploadState = { size: current.size + written, gen, pieces };
      // only if nobody wrote the state since it was read: writers never interleave
      if (!(await this.records.replace(id, current.gen, JSON.stringify(next), Date.now()))) {
        if (!(await this.records.get(id))) throw new UploadNotFoundError(id);
        throw new UploadOffsetMismatchError(id, state.size);
      }
      return next;
    } catch (err) {
      source.destroy();
      throw err;
    } finally {
      source.off('error', onEarly);
    }
  }

  /** Streams `source` into the piece `name`; resolves with its byte count (0: nothing was stored). Rethrows the source's error. */
  private async writePiece(id: string, name: string, source: Readable): Promise<number> {
    let count = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        count += chunk.length;
        cb(null, chunk);
      },
    });
    const body = new PassThrough();
    // The first bytes decide: an empty append stores nothing.
    const upload = new Upload({
      client: this.b.s3,
      params: { Bucket: this.b.name, Key: `${s3Keys.upload(this.b.prefix, id)}${name}`, Body: body },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const piped = pipeline(source, counter, body);
    // a store that fails stops reading `body`: end the pipeline too instead of waiting on it for ever
    const done = upload.done().catch((err: unknown) => {
      body.destroy(err as Error);
      throw err;
    });
    const [p, u] = await Promise.allSettled([piped, done]);
    // the source's error first: it is the caller's to see (a client that went away)
    if (p.status === 'rejected') {
      await upload.abort().catch(() => undefined);
      throw p.reason;
    }
    if (u.status === 'rejected') throw u.reason;
    return count;
  }

  /**
   * Merges trailing small pieces while the one before the last is no larger than the last (a binary counter's
   * carry) and both are below a part: the bytes are read and written again in the bucket, never kept by a node
   * between requests. The merged-away pieces stay until commit or abort (an older state may still name them).
   */
  private async mergeSmall(id: string, gen: number, pieces: [number, string][]): Promise<[number, string][]> {
    const out = [...pieces];
    while (out.length >= 2) {
      const [a, b] = [out[out.length - 2]!, out[out.length - 1]!];
      if (a[0] >= MIN_PART || b[0] >= MIN_PART || a[0] > b[0]) break;
      const parts = await Promise.all([a, b].map(([, n]) => this.b.getBytes(`${s3Keys.upload(this.b.prefix, id)}${n}`)));
      const name = pieceName(gen);
      const body = Buffer.concat(parts);
      await this.b.s3.send(new PutObjectCommand({ Bucket: this.b.name, Key: `${s3Keys.upload(this.b.prefix, id)}${name}`, Body: body, ContentLength: body.length }));
      out.splice(out.length - 2, 2, [body.length, name]);
    }
    return out;
  }

  async readUpload(id: string, state: UploadState): Promise<Readable> {
    await this.readState(id);
    return Readable.from(this.pieceBytes(id, state as S3UploadState));
  }

  /** The bytes of the first `state.size` bytes of the upload, piece after piece. */
  private async *pieceBytes(id: string, state: S3UploadState): AsyncGenerator<Buffer> {
    let left = state.size;
    for (const [size, name] of state.pieces) {
      if (left <= 0) break;
      const take = Math.min(size, left);
      const body = await this.b.getObject(`${s3Keys.upload(this.b.prefix, id)}${name}`, take < size ? { start: 0, end: take - 1 } : undefined);
      let got = 0;
      for await (const c of body as AsyncIterable<Buffer>) {
        got += c.length;
        yield c;
      }
      if (got !== take) throw new Error(`upload ${id}: piece ${name} held ${got} bytes, not ${take}`);
      left -= take;
    }
    if (left > 0) throw new Error(`upload ${id} holds fewer bytes than its state says`);
  }

  async commitUpload(id: string, state: UploadState, digest: string) {
    const current = await this.readState(id);
    const given = state as S3UploadState;
    if (current.size < given.size || current.gen < given.gen) throw new UploadOffsetMismatchError(id, state.size, current.size);
    const dest = s3Keys.blob(this.b.prefix, digest);
    const pieces = given.pieces;
    if (pieces.length === 0) {
      await this.b.s3.send(new PutObjectCommand({ Bucket: this.b.name, Key: dest, Body: Buffer.alloc(0), ContentLength: 0 }));
    } else {
      let source = `${s3Keys.upload(this.b.prefix, id)}${pieces[0]![1]}`;
      if (pieces.length > 1) {
        // one multipart upload joins the pieces, under the upload's prefix so an abort finds what a dead node left
        source = s3Keys.assembled(this.b.prefix, id, token());
        await this.b.uploadStream(source, Readable.from(this.pieceBytes(id, given)), given.size);
      }
      await this.b.copy(source, given.size, dest);
    }
    // the state goes first: from then on the upload is gone for every node, whatever of its pieces remain
    await this.records.delete(id);
    await this.removeUploadObjects(id);
  }

  /**
   * Deletes every object under the upload's prefix and aborts its multipart uploads. An upload that never held a piece
   * (a blob sent whole with the request that finished it) has neither: its one listing comes back empty and nothing
   * more is asked of the store. A multipart upload a node that died mid-append left without any object beside it is
   * left to the bucket's lifecycle rule for incomplete uploads (docs/deployment.md).
   */
  async removeUploadObjects(id: string): Promise<void> {
    const prefix = s3Keys.upload(this.b.prefix, id);
    let found = false;
    for (;;) {
      const page = await this.b.s3.send(new ListObjectsV2Command({ Bucket: this.b.name, Prefix: prefix }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) {
        found = true;
        await this.b.s3.send(new DeleteObjectsCommand({ Bucket: this.b.name, Delete: { Objects: keys, Quiet: true } }));
      }
      if (!page.IsTruncated || keys.length === 0) break;
    }
    if (found) await this.b.abortMultipart(prefix);
  }

  /** When the upload last changed: its state's time, or (what a dead node left without one) its newest object's. */
  async lastWrittenAt(id: string): Promise<number | undefined> {
    const record = await this.records.get(id);
    if (record) return record.updatedAt;
    const page = await this.b.s3.send(new ListObjectsV2Command({ Bucket: this.b.name, Prefix: s3Keys.upload(this.b.prefix, id) }));
    const times = (page.Contents ?? []).map((o) => o.LastModified?.getTime() ?? 0);
    return times.length > 0 ? Math.max(...times) : undefined;
  }

  /** The ids of sessions with a state, after `cursor` in id order (at most `limit`). */
  async recorded(cursor: string | undefined, limit: number): Promise<string[]> {
    return (await this.records.page(cursor, limit)).map((r) => r.id);
  }

  private async readState(id: string): Promise<S3UploadState> {
    const record = await this.records.get(id);
    if (!record) throw new UploadNotFoundError(id);
    return JSON.parse(record.state) as S3UploadState;
  }

  /**
   * Removes the session: its state first (then it is gone for every node), then its objects and multipart uploads.
   * A session whose state never named a piece (opened, then finished with the whole blob) has none to look for; a
   * piece an append in flight elsewhere writes after this has no state to join and is the purge's (listUploads).
   */
  async abort(id: string): Promise<void> {
    if ((await this.records.delete(id)) === 0) return;
    await this.removeUploadObjects(id);
  }
}

function pieceName(gen: number): string {
  return `piece-${String(gen).padStart(10, '0')}-${token()}`;
}
