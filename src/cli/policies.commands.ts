/**
 * `ncr cleanup ...` and `ncr protection ...`: a registry's image cleanup policies, runs, schedule and history, and its
 * image protection policies, over /api/v1.
 */
import type { Command } from 'commander';
import { call, conn, out } from './client.js';

const enc = encodeURIComponent;
const POLICY_COLUMNS = ['id', 'enabled', 'description'];

interface FilterOpts {
  image?: string;
  imageRegex?: boolean;
  imageExclude?: boolean;
  tag?: string;
  tagRegex?: boolean;
  tagExclude?: boolean;
  untagged?: boolean;
}

function filterOptions(c: Command): Command {
  return c
    .option('--image <pattern>', 'image filter (path inside the registry); default ** (every image)')
    .option('--image-regex', 'the image pattern is a regular expression (default: glob)')
    .option('--image-exclude', 'select images NOT matching the pattern')
    .option('--tag <pattern>', 'tag filter; default ** (every tag)')
    .option('--tag-regex', 'the tag pattern is a regular expression (default: glob)')
    .option('--tag-exclude', 'select artifacts with a tag NOT matching the pattern')
    .option('--untagged', 'also select artifacts without any tag');
}

function filtersOf(o: FilterOpts) {
  return {
    imageFilter: { pattern: o.image ?? '**', syntax: o.imageRegex ? 'regex' : 'glob', mode: o.imageExclude ? 'excluding' : 'matching' },
    tagFilter: { pattern: o.tag ?? '**', syntax: o.tagRegex ? 'regex' : 'glob', mode: o.tagExclude ? 'excluding' : 'matching', untagged: Boolean(o.untagged) },
  };
}

/** `latest-pushed:10`, `pulled-within:7`, `nothing`, ... → the API's rule */
export function parseKeep(s: string): { keep: string; n?: number } {
  const [name, n] = s.split(':');
  const keep = { 'latest-pushed': 'latestPushed', 'latest-pulled': 'latestPulled', 'pushed-within': 'pushedWithinDays', 'pulled-within': 'pulledWithinDays', nothing: 'nothing' }[name ?? ''];
  if (!keep) throw new Error(`--keep "${s}": use latest-pushed:N, latest-pulled:N, pushed-within:DAYS, pulled-within:DAYS or nothing`);
  if (keep === 'nothing') return { keep };
  const count = Number(n);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--keep "${s}": give a whole number after the colon, e.g. ${name}:10`);
  return { keep, n: count };
}

function policyKind(kind: 'cleanup' | 'protection', parent: Command) {
  const path = (registry: string, id?: string) => `/registries/${enc(registry)}/${kind}-policies${id ? `/${enc(id)}` : ''}`;
  parent.command('list <registry>').description(`list the registry's ${kind} policies`).action(async (registry: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', path(registry)), POLICY_COLUMNS);
  });
  const add = filterOptions(parent.command('add <registry>').description(`add a ${kind} policy (enabled)`));
  if (kind === 'cleanup') add.requiredOption('--keep <rule>', 'what to keep of the selected artifacts (the rest is deleted): latest-pushed:N, latest-pulled:N, pushed-within:DAYS, pulled-within:DAYS or nothing');
  add.action(async (registry: string, o: FilterOpts & { keep?: string }, cmd: Command) => {
    const c = conn(cmd);
    const body = { ...filtersOf(o), ...(kind === 'cleanup' ? { rule: parseKeep(o.keep!) } : {}) };
    out(c, await call(c, 'POST', path(registry), body), POLICY_COLUMNS);
  });
  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    parent.command(`${name} <registry> <id>`).action(async (registry: string, id: string, _o, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'PATCH', path(registry, id), { enabled }), POLICY_COLUMNS);
    });
  }
  parent.command('delete <registry> <id>').action(async (registry: string, id: string, _o, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', path(registry, id));
    process.stdout.write(`deleted ${kind} policy ${id}\n`);
  });
}

export function policyCommands(program: Command) {
  const cleanup = program.command('cleanup').description("a registry's image cleanup: policies, test run, run, schedule, history");
  policyKind('cleanup', cleanup);
  for (const [name, path, what] of [
    ['test-run', 'test-run', 'judge every artifact (KEEP / DELETE / PROTECTED) without deleting anything'],
    ['run', 'run', 'run the enabled policies now'],
  ]) {
    cleanup
      .command(`${name} <registry>`)
      .description(what!)
      .action(async (registry: string, _o, cmd: Command) => {
        const c = conn(cmd);
        const e = await call(c, 'POST', `/registries/${enc(registry)}/cleanup/${path}`);
        if (c.json) return out(c, e);
        process.stdout.write(`started ${name} ${e.id}: see it with ncr execution show ${e.id}\n`);
      });
  }
  cleanup
    .command('schedule <registry> [cron]')
    .description('show, set ("0 3 * * *": 5 fields, UTC) or remove ("off") the cleanup cycle')
    .action(async (registry: string, cron: string | undefined, _o, cmd: Command) => {
      const c = conn(cmd);
      const path = `/registries/${enc(registry)}/cleanup/schedule`;
      const s = cron === undefined ? await call(c, 'GET', path) : await call(c, 'PUT', path, { cron: cron === 'off' ? null : cron });
      out(c, s, ['cron', 'nextAt', 'lastFiredAt']);
    });
  cleanup.command('history <registry>').description('runs and test runs, newest first (details: ncr execution show ID)').action(async (registry: string, _o, cmd: Command) => {
    const c = conn(cmd);
    const page = await call(c, 'GET', `/registries/${enc(registry)}/cleanup/executions?perPage=100`);
    out(c, { ...page, items: page.items.map((e: Record<string, unknown>) => ({ ...e, counts: JSON.stringify(e.counts) })) }, ['id', 'dryRun', 'trigger', 'status', 'createdAt', 'counts']);
  });

  const protection = program.command('protection').description("a registry's image protection policies");
  policyKind('protection', protection);
}
