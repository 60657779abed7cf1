import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';

blobStoreContract('FsBlobStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ncr-contract-fs-'));
  const store = new FsBlobStore(dir);
  await store.init();
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});
