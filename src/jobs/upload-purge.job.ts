/** Abandoned uploads (by default: no chunk for a day) are discarded, with their bytes, every hour by default. */
import type { UploadService } from '../domain/registry/upload.service.js';
import type { Job } from './scheduler.js';

export const UPLOAD_MAX_IDLE_MS = 24 * 60 * 60 * 1000;

export function uploadPurgeJob(uploads: UploadService, maxIdleMs = UPLOAD_MAX_IDLE_MS, everyMs = 60 * 60 * 1000): Job {
  return {
    name: 'upload-purge',
    everyMs,
    run: async () => {
      const purged = await uploads.purgeStale(maxIdleMs);
      return purged > 0 ? { purged } : undefined;
    },
  };
}
