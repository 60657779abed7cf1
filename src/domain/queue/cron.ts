/**
 * Cron expressions as the product guide's "Cleanup Cycle Setting" table defines them: five fields (minute, hour,
 * day of month, month, day of week), always UTC; `*` `/` `,` `-` everywhere, `?` (any) in day of month and day of
 * week; months 1-12 or JAN-DEC; days 0-6 or SUN-SAT. Parsed and stepped by croner.
 */
import { Cron } from 'croner';
import { NcrError } from '../../oci/errors.js';

const FIELDS = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;
const ALLOWED: RegExp[] = [
  /^[0-9*/,-]+$/,
  /^[0-9*/,-]+$/,
  /^[0-9*/,?-]+$/,
  /^[0-9A-Za-z*/,-]+$/,
  /^[0-9A-Za-z*/,?-]+$/,
];

/** Validates a 5-field UTC cron expression; VALIDATION_FAILED naming the field otherwise. Returns it normalised. */
export function parseCron(expr: string): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new NcrError('VALIDATION_FAILED', `cron "${expr}" has ${fields.length} field(s); use five: minute hour day-of-month month day-of-week (UTC), e.g. "0 3 * * SUN"`);
  }
  fields.forEach((f, i) => {
    if (!ALLOWED[i].test(f)) throw new NcrError('VALIDATION_FAILED', `cron "${expr}": the ${FIELDS[i]} field "${f}" uses a character that is not allowed there`);
  });
  const normalised = fields.join(' ');
  try {
    new Cron(normalised.replace(/\?/g, '*'), { timezone: 'UTC', paused: true });
  } catch (err) {
    throw new NcrError('VALIDATION_FAILED', `cron "${expr}" is invalid: ${(err as Error).message.replace(/^CronPattern: /, '')}`);
  }
  return normalised;
}

/** The first time strictly after `after` (epoch ms) that the expression matches; undefined when it never does. */
export function nextCronTime(expr: string, after: number): number | undefined {
  const c = new Cron(parseCron(expr).replace(/\?/g, '*'), { timezone: 'UTC', paused: true });
  return c.nextRun(new Date(after))?.getTime();
}
