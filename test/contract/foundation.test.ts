/** The outbox and job-queue contract suites on every database (real SQLite file, real PostgreSQL). */
import { describe } from 'vitest';
import { DB_KINDS } from '../helpers/server.js';
import { openHarness } from './foundation-harness.js';
import { cronDialect, jobsContract } from './jobs.contract.js';
import { outboxContract } from './outbox.contract.js';

describe.each(DB_KINDS)('outbox contract (%s)', (db) => outboxContract(() => openHarness(db)));
describe.each(DB_KINDS)('job queue contract (%s)', (db) => jobsContract(() => openHarness(db)));
describe('cron dialect', () => cronDialect());
