/** Abandoned uploads (no chunk for a day) are discarded, with their bytes; scheduled hourly (maintenance.job.ts). */
import type { UploadService } from '../domain/registry/upload.service.js';
import type { JobHandler } from './runner.js';

export const UPLOAD_MAX_IDLE_MS = 24 * 60 * 60 * 1000;

export function uploadPurgeJob(uploads: UploadService, maxIdleMs = UPLOAD_MAX_IDLE_MS): JobHandler {
  return {
    kind: 'upload-purge',
    run: async () => ({ purged: await uploads.purgeStale(maxIdleMs) }),
  };
}
