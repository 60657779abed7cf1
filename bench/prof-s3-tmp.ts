import { join } from 'node:path';
import { startS3 } from '../test/helpers/s3.js';
import { MiB, loadBenchConfig } from './config.js';
import { runCount, stats } from './load.js';
import { pushBlob } from './oci.js';
import { uniqueBlobs } from './payload.js';
import { REGISTRY, startNcr, stopAll } from './servers.js';
import { summariseFile } from './cpuprofile.js';
import { readdir } from 'node:fs/promises';

const cfg = loadBenchConfig();
const s3 = await startS3({ quiet: true, kind: 'radosgw', store: 'bluestore' });
const bucket = await s3.newBucket();
const env = { NCR_STORAGE_DRIVER: 's3', NCR_STORAGE_S3_BUCKET: bucket, NCR_STORAGE_S3_PREFIX: 'ncr/', NCR_STORAGE_S3_ENDPOINT: s3.endpoint, NCR_STORAGE_S3_REGION: s3.region, NCR_STORAGE_S3_FORCE_PATH_STYLE: 'true', NCR_STORAGE_S3_ACCESS_KEY_ID: s3.credentials.accessKeyId, NCR_STORAGE_S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey };
const data = join(cfg.tmp, 'p');
const plain = await startNcr(cfg, data, { env });
await plain.stop();
const profDir = '/tmp/prof/out';
const s = await startNcr(cfg, data, { env, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`], createRegistry: false });
const client = s.client();
for (let r = 0; r < 2; r++) {
  const blobs = uniqueBlobs(200, MiB);
  const st = stats(await runCount(8, 200, async (i) => (await pushBlob(client, `${REGISTRY}/s3p`, blobs[i].parts, blobs[i].digest), MiB)));
  console.log(st.mbPerSec.toFixed(0), 'MB/s');
}
await s.stop();
const f = (await readdir(profDir)).filter((x) => x.endsWith('.cpuprofile'));
console.log(await summariseFile(join(profDir, f[f.length - 1]), 40));
await stopAll();
await s3.close();
process.exit(0);
