/** The configured blob store (app.ts opens it): a directory, or an S3 bucket with its upload states in the database. */
import type { Config } from '../config/index.js';
import { FsBlobStore } from '../storage/blob/fs/fs-blob-store.js';
import type { BlobStore } from '../storage/blob/port.js';
import type { MetaDb } from '../storage/meta/kysely/connect.js';
import { openUploadRecords } from '../storage/meta/kysely/upload-records.repo.js';

/** The configured blob store, ready for use. */
export async function openBlobStore(config: Config, meta: MetaDb): Promise<{ store: BlobStore; close(): Promise<void> }> {
  if (config.storage.driver === 's3') {
    // loaded only when configured: the AWS SDK adds over a second to every process start (CLI commands included)
    const { S3BlobStore } = await import('../storage/blob/s3/s3-blob-store.js');
    const c = config.storage.s3;
    // upload sessions' states: rows every node sees (PostgreSQL), or a SQLite file of their own
    const uploads = await openUploadRecords(meta);
    const store = new S3BlobStore({
      bucket: c.bucket!,
      prefix: c.prefix,
      client: {
        region: c.region,
        endpoint: c.endpoint,
        forcePathStyle: c.forcePathStyle,
        // none given: the SDK's default chain (AWS_* variables, shared profile, container or instance role)
        credentials: c.accessKeyId && c.secretAccessKey ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } : undefined,
      },
      redirect: c.redirect ? { endpoint: c.redirectEndpoint } : undefined,
      privateEndpoint: c.privateEndpoint,
      records: uploads.records(`s3://${c.bucket!}/${c.prefix ?? ''}`),
    });
    return {
      store,
      close: async () => {
        store.close();
        await uploads.close();
      },
    };
  }
  const store = new FsBlobStore(config.storage.fs.root);
  await store.init();
  return { store, close: async () => undefined };
}
