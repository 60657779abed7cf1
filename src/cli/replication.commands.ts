/**
 * `ncr replication ...`: a registry's replications (copies of its images at another registry, an endpoint): create,
 * list, show, change, Refresh, run, history with each run's artifacts, stop, delete, over /api/v1.
 */
import type { Command } from 'commander';
import { call, conn, out } from './client.js';

const enc = encodeURIComponent;
const COLUMNS = ['name', 'status', 'endpoint', 'targetRegistry', 'filters', 'statusReason'];
const path = (registry: string, rule?: string, rest = '') => `/registries/${enc(registry)}/replications${rule ? `/${enc(rule)}` : ''}${rest}`;

interface RuleOpts {
  endpoint?: string;
  target?: string;
  image?: string;
  imageRegex?: boolean;
  tag?: string;
  tagRegex?: boolean;
  untagged?: boolean;
  description?: string;
  disabled?: boolean;
}

function ruleOptions(c: Command): Command {
  return c
    .option('--target <path>', "the path prefix at the target (REG/app goes to TARGET/app); default the registry's name")
    .option('--image <pattern>', 'only images matching (path inside the registry; glob, or regex with --image-regex)')
    .option('--image-regex', 'the image pattern is a regular expression')
    .option('--tag <pattern>', 'only artifacts with a tag matching (glob, or regex with --tag-regex)')
    .option('--tag-regex', 'the tag pattern is a regular expression')
    .option('--untagged', 'also replicate artifacts without a tag')
    .option('--description <text>', 'a description');
}

function bodyOf(o: RuleOpts): Record<string, unknown> {
  return {
    ...(o.target ? { targetRegistry: o.target } : {}),
    ...(o.image ? { imageFilter: { pattern: o.image, syntax: o.imageRegex ? 'regex' : 'glob', mode: 'matching' } } : {}),
    ...(o.tag || o.untagged ? { tagFilter: { pattern: o.tag ?? '**', syntax: o.tagRegex ? 'regex' : 'glob', mode: 'matching', untagged: Boolean(o.untagged) } } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
  };
}

export function replicationCommands(program: Command) {
  const r = program.command('replication').description("a registry's replications to other registries: create, list, refresh, run, history, stop, delete");
  r.command('list <registry>').action(async (registry: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', path(registry)), COLUMNS);
  });
  r.command('show <registry> <name>').action(async (registry: string, name: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', path(registry, name)));
  });
  ruleOptions(r.command('create <registry> <name>').description('create a replication to an endpoint (ncr endpoint: /api/v1/endpoints); Disabled until the target is checked'))
    .requiredOption('--endpoint <endpoint>', "the target endpoint's name or id")
    .option('--disabled', 'create it turned off')
    .action(async (registry: string, name: string, o: RuleOpts, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'POST', path(registry), { name, endpoint: o.endpoint, ...bodyOf(o), ...(o.disabled ? { enabled: false } : {}) }), COLUMNS);
    });
  ruleOptions(r.command('update <registry> <name>').description('change a replication (only the options given)'))
    .option('--endpoint <endpoint>', "another endpoint's name or id")
    .action(async (registry: string, name: string, o: RuleOpts, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'PATCH', path(registry, name), { ...bodyOf(o), ...(o.endpoint ? { endpoint: o.endpoint } : {}) }), COLUMNS);
    });
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    r.command(`${verb} <registry> <name>`).action(async (registry: string, name: string, _o, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'PATCH', path(registry, name), { enabled }), COLUMNS);
    });
  }
  r.command('refresh <registry> <name>').description('check the target now (reachable and writable)').action(async (registry: string, name: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', path(registry, name, '/check')), ['name', 'status', 'checkedAt', 'checkError']);
  });
  r.command('run <registry> <name>').description('Run Replication: copy everything the replication selects').action(async (registry: string, name: string, _o, cmd: Command) => {
    const c = conn(cmd);
    const e = await call(c, 'POST', path(registry, name, '/run'));
    if (c.json) return out(c, e);
    process.stdout.write(`started run ${e.id}: see it with ncr replication history ${registry} ${name} ${e.id}\n`);
  });
  r.command('history <registry> <name> [run]')
    .description("the replication's runs, newest first; with a run id, that run's artifacts (copied / skipped / failed)")
    .action(async (registry: string, name: string, run: string | undefined, _o, cmd: Command) => {
      const c = conn(cmd);
      if (!run) {
        const page = await call(c, 'GET', path(registry, name, '/executions?perPage=100'));
        return out(c, { ...page, items: page.items.map((e: Record<string, unknown>) => ({ ...e, counts: JSON.stringify(e.counts) })) }, ['id', 'trigger', 'status', 'createdAt', 'endedAt', 'counts']);
      }
      const page = await call(c, 'GET', path(registry, name, `/executions/${enc(run)}/tasks?perPage=100`));
      out(c, { ...page, items: page.items.map((t: { detail?: { bytes?: number; durationMs?: number } }) => ({ ...t, bytes: t.detail?.bytes ?? '', durationMs: t.detail?.durationMs ?? '' })) }, ['subject', 'status', 'bytes', 'durationMs', 'message']);
    });
  r.command('stop <registry> <name> <run>').action(async (registry: string, name: string, run: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', path(registry, name, `/executions/${enc(run)}/stop`)), ['id', 'status', 'stopRequested']);
  });
  r.command('delete <registry> <name>').description('delete the replication (what it copied stays at the target)').action(async (registry: string, name: string, _o, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', path(registry, name));
    process.stdout.write(`deleted replication ${name}\n`);
  });
}
