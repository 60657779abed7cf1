/**
 * Client commands over /api/v1: registries, images, webhooks, users and access keys, executions and (admins) jobs and
 * garbage collection. Credentials from flags or env
 * (NCR_URL, NCR_ACCESS_KEY, NCR_SECRET_KEY). Output is a plain table, or JSON with --json.
 */
import type { Command } from 'commander';

export interface Conn {
  url: string;
  accessKey: string;
  secretKey: string;
  json: boolean;
}

export function conn(cmd: Command): Conn {
  const o = cmd.optsWithGlobals() as Record<string, string | boolean | undefined>;
  const url = String(o.url ?? process.env.NCR_URL ?? 'http://127.0.0.1:5000').replace(/\/+$/, '');
  const accessKey = String(o.accessKey ?? process.env.NCR_ACCESS_KEY ?? '');
  const secretKey = String(o.secretKey ?? process.env.NCR_SECRET_KEY ?? '');
  if (!accessKey || !secretKey) throw new Error('credentials missing: pass --access-key and --secret-key, or set NCR_ACCESS_KEY and NCR_SECRET_KEY');
  return { url, accessKey, secretKey, json: Boolean(o.json) };
}

export async function call(c: Conn, method: string, path: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(c.url + '/api/v1' + path, {
      method,
      headers: {
        authorization: 'Basic ' + Buffer.from(`${c.accessKey}:${c.secretKey}`).toString('base64'),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`cannot reach ${c.url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = data?.errors?.[0];
    throw new Error(e ? `${e.code}: ${e.message}` : `HTTP ${res.status}`);
  }
  return data;
}

function table(rows: Record<string, unknown>[], columns: string[]) {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd() + '\n';
  process.stdout.write(line(columns.map((c) => c.toUpperCase())));
  for (const r of rows) process.stdout.write(line(columns.map((c) => cell(r[c]))));
}

export function out(c: Conn, data: any, columns?: string[]) {
  if (c.json || !columns) process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  else table(Array.isArray(data) ? data : data.items ?? [data], columns);
}

const enc = encodeURIComponent;

/** "10GB", "500 MB", "1.5TB", "1048576" (bytes; powers of 1024) or "none" (null). */
export function parseSize(s: string): number | null {
  if (/^(none|unlimited|off)$/i.test(s.trim())) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|KIB|MB|MIB|GB|GIB|TB|TIB)?$/i.exec(s.trim());
  if (!m) throw new Error(`"${s}" is not a size: give e.g. 500MB, 10GB, 1TB, a number of bytes, or none`);
  const unit = (m[2] ?? 'B').toUpperCase().replace('I', '');
  const mult = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[unit]!;
  return Math.round(Number(m[1]) * mult);
}

export function clientCommands(program: Command) {
  program
    .option('--url <url>', 'ncr server URL (env NCR_URL; default http://127.0.0.1:5000)')
    .option('--access-key <key>', 'access key (env NCR_ACCESS_KEY)')
    .option('--secret-key <secret>', 'secret key (env NCR_SECRET_KEY)')
    .option('--json', 'print JSON');

  const reg = program.command('registry').description('manage registries (namespaces)');
  reg.command('create <name>').action(async (name: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', '/registries', { name }), ['name', 'address', 'createdAt']);
  });
  reg.command('list').option('--search <q>').option('--page <n>', 'page', '1').action(async (o: { search?: string; page: string }, cmd: Command) => {
    const c = conn(cmd);
    const q = new URLSearchParams({ page: o.page, perPage: '100', ...(o.search ? { search: o.search } : {}) });
    out(c, await call(c, 'GET', `/registries?${q}`), ['name', 'address', 'imageCount', 'storageBytes', 'createdAt']);
  });
  reg
    .command('quota <name> <size>')
    .description('set the storage quota (e.g. 500MB, 10GB, 1TB, or bytes), or lift it with "none" (admins)')
    .action(async (name: string, size: string, _o, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'PUT', `/registries/${enc(name)}/quota`, { quotaBytes: parseSize(size) }), ['name', 'storageBytes', 'quotaBytes']);
    });
  reg.command('delete <name>').option('--force', 'also delete every image in it').action(async (name: string, o: { force?: boolean }, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', `/registries/${enc(name)}${o.force ? '?force=true' : ''}`);
    process.stdout.write(`deleted registry ${name}\n`);
  });

  const img = program.command('image').description('list and delete images');
  img.command('list <registry>').option('--search <q>').action(async (registry: string, o: { search?: string }, cmd: Command) => {
    const c = conn(cmd);
    const q = new URLSearchParams({ perPage: '100', ...(o.search ? { search: o.search } : {}) });
    out(c, await call(c, 'GET', `/registries/${enc(registry)}/images?${q}`), ['name', 'artifactCount', 'tagCount', 'updatedAt', 'pulledAt']);
  });
  img.command('delete <registry> <image>').action(async (registry: string, image: string, _o, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', `/registries/${enc(registry)}/images/${enc(image)}`);
    process.stdout.write(`deleted image ${registry}/${image}\n`);
  });

  const user = program.command('user').description('manage users (admins)');
  user.command('create <username>').requiredOption('--role <role>', 'admin, member or viewer').option('--password <password>').action(async (username: string, o: { role: string; password?: string }, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', '/users', { username, role: o.role, ...(o.password ? { password: o.password } : {}) }), ['username', 'role', 'createdAt']);
  });
  user.command('list').action(async (_o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', '/users?perPage=100'), ['username', 'role', 'createdAt']);
  });
  user.command('set-role <username> <role>').action(async (username: string, role: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'PATCH', `/users/${enc(username)}`, { role }), ['username', 'role']);
  });
  user.command('delete <username>').action(async (username: string, _o, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', `/users/${enc(username)}`);
    process.stdout.write(`deleted user ${username}\n`);
  });

  const key = program.command('key').description("manage access keys (your own, or --user's as an admin)");
  const who = (o: { user?: string }) => enc(o.user ?? 'me');
  key.command('create').option('--user <username>').action(async (o: { user?: string }, cmd: Command) => {
    const c = conn(cmd);
    const k = await call(c, 'POST', `/users/${who(o)}/access-keys`);
    if (c.json) out(c, k);
    else process.stdout.write(`access key: ${k.accessKey}\nsecret key: ${k.secretKey}\nThe secret key is shown only now: store it safely.\n`);
  });
  key.command('list').option('--user <username>').action(async (o: { user?: string }, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', `/users/${who(o)}/access-keys`), ['accessKey', 'createdAt', 'lastUsedAt', 'rotationDue']);
  });
  key.command('regenerate <accessKey>').option('--user <username>').action(async (ak: string, o: { user?: string }, cmd: Command) => {
    const c = conn(cmd);
    const k = await call(c, 'POST', `/users/${who(o)}/access-keys/${enc(ak)}/regenerate`);
    if (c.json) out(c, k);
    else process.stdout.write(`access key: ${k.accessKey}\nsecret key: ${k.secretKey}\nThe secret key is shown only now: store it safely.\n`);
  });
  key.command('delete <accessKey>').option('--user <username>').action(async (ak: string, o: { user?: string }, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', `/users/${who(o)}/access-keys/${enc(ak)}`);
    process.stdout.write(`deleted access key ${ak}\n`);
  });

  const exe = program.command('execution').description('runs of cleanup, replication, scanning, GC: list, show, stop');
  exe
    .command('list')
    .option('--kind <kind>')
    .option('--registry <name>', 'only runs on this registry')
    .option('--status <status>', 'queued, running, succeeded, failed or stopped')
    .action(async (o: { kind?: string; registry?: string; status?: string }, cmd: Command) => {
      const c = conn(cmd);
      const q = new URLSearchParams({ perPage: '100', ...(o.kind ? { kind: o.kind } : {}), ...(o.registry ? { subject: o.registry } : {}), ...(o.status ? { status: o.status } : {}) });
      out(c, await call(c, 'GET', `/executions?${q}`), ['id', 'kind', 'subject', 'trigger', 'status', 'createdAt', 'endedAt']);
    });
  exe.command('show <id>').action(async (id: string, _o, cmd: Command) => {
    const c = conn(cmd);
    const e = await call(c, 'GET', `/executions/${enc(id)}`);
    const tasks = await call(c, 'GET', `/executions/${enc(id)}/tasks?perPage=100`);
    if (c.json) return out(c, { ...e, tasks: tasks.items });
    out(c, e, ['id', 'kind', 'subject', 'trigger', 'status', 'createdBy', 'createdAt', 'endedAt']);
    process.stdout.write(`counts: ${JSON.stringify(e.counts)}${e.message ? `\nmessage: ${e.message}` : ''}\n`);
    out(c, tasks, ['subject', 'status', 'message']);
  });
  exe.command('stop <id>').action(async (id: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', `/executions/${enc(id)}/stop`), ['id', 'kind', 'status', 'stopRequested']);
  });

  const gc = program.command('gc').description('online garbage collection (admins): run, dry run, history, schedule');
  gc.command('run')
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .option('--delete-untagged', 'first delete artifacts no tag names (index children in use and referrers of a present subject stay)')
    .option('--wait', 'wait until the run has ended, then show it')
    .action(async (o: { dryRun?: boolean; deleteUntagged?: boolean; wait?: boolean }, cmd: Command) => {
      const c = conn(cmd);
      let e = await call(c, 'POST', '/gc/run', { dryRun: Boolean(o.dryRun), deleteUntagged: Boolean(o.deleteUntagged) });
      while (o.wait && (e.status === 'queued' || e.status === 'running')) {
        await new Promise((r) => setTimeout(r, 500));
        e = await call(c, 'GET', `/gc/runs/${enc(e.id)}`);
      }
      out(c, e, ['id', 'status', 'params', 'createdAt']);
      if (!c.json && o.wait) process.stdout.write(`counts: ${JSON.stringify(e.counts)}${e.message ? `\nmessage: ${e.message}` : ''}\n`);
    });
  gc.command('history')
    .option('--status <status>', 'queued, running, succeeded, failed or stopped')
    .action(async (o: { status?: string }, cmd: Command) => {
      const c = conn(cmd);
      const q = new URLSearchParams({ perPage: '100', ...(o.status ? { status: o.status } : {}) });
      const page = await call(c, 'GET', `/gc?${q}`);
      const summary = (x: { counts: Record<string, number> }) => {
        const k = x.counts;
        const parts = [
          k.blobsDeleted !== undefined || k.blobsToDelete !== undefined ? `blobs ${k.blobsDeleted ?? k.blobsToDelete ?? 0}` : '',
          k.bytesFreed !== undefined || k.bytesToFree !== undefined ? `bytes ${k.bytesFreed ?? k.bytesToFree ?? 0}` : '',
          k.artifactsDeleted !== undefined || k.artifactsToDelete !== undefined ? `artifacts ${k.artifactsDeleted ?? k.artifactsToDelete ?? 0}` : '',
          k.failed ? `failed ${k.failed}` : '',
        ];
        return parts.filter(Boolean).join(', ') || '-';
      };
      if (c.json) return out(c, page);
      out(
        c,
        page.items.map((x: { params: { dryRun?: boolean }; counts: Record<string, number> }) => ({ ...x, dryRun: Boolean(x.params?.dryRun), result: summary(x) })),
        ['id', 'trigger', 'dryRun', 'status', 'createdAt', 'endedAt', 'result'],
      );
    });
  gc.command('show <id>').action(async (id: string, _o, cmd: Command) => {
    const c = conn(cmd);
    const e = await call(c, 'GET', `/gc/runs/${enc(id)}`);
    const tasks = await call(c, 'GET', `/gc/runs/${enc(id)}/tasks?perPage=100`);
    if (c.json) return out(c, { ...e, tasks: tasks.items });
    out(c, e, ['id', 'trigger', 'status', 'createdBy', 'createdAt', 'endedAt']);
    process.stdout.write(`params: ${JSON.stringify(e.params)}\ncounts: ${JSON.stringify(e.counts)}${e.message ? `\nmessage: ${e.message}` : ''}\n`);
    out(c, tasks, ['subject', 'status', 'message']);
  });
  gc.command('stop <id>').action(async (id: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', `/gc/runs/${enc(id)}/stop`), ['id', 'status', 'stopRequested']);
  });
  gc.command('schedule [cron]')
    .description('show the schedule; with a 5-field UTC cron (quoted) set it, with "off" turn it off')
    .option('--delete-untagged', 'scheduled runs also delete untagged artifacts')
    .action(async (cron: string | undefined, o: { deleteUntagged?: boolean }, cmd: Command) => {
      const c = conn(cmd);
      const columns = ['cron', 'enabled', 'deleteUntagged', 'nextAt', 'lastFiredAt'];
      if (cron === undefined) return out(c, await call(c, 'GET', '/gc/schedule'), columns);
      out(c, await call(c, 'PUT', '/gc/schedule', { cron: cron === 'off' ? null : cron, deleteUntagged: Boolean(o.deleteUntagged) }), columns);
    });

  const job = program.command('job').description('the background job queue and its schedules (admins)');
  job
    .command('list')
    .option('--kind <kind>')
    .option('--status <status>', 'queued, running, succeeded, failed or cancelled')
    .action(async (o: { kind?: string; status?: string }, cmd: Command) => {
      const c = conn(cmd);
      const q = new URLSearchParams({ perPage: '100', ...(o.kind ? { kind: o.kind } : {}), ...(o.status ? { status: o.status } : {}) });
      out(c, await call(c, 'GET', `/jobs?${q}`), ['id', 'kind', 'status', 'attempts', 'runAt', 'finishedAt', 'lastError']);
    });
  job.command('cancel <id>').action(async (id: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', `/jobs/${enc(id)}/cancel`), ['id', 'kind', 'status', 'cancelRequested']);
  });
  job.command('schedules').action(async (_o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', '/schedules'), ['name', 'cron', 'kind', 'enabled', 'nextAt', 'lastFiredAt']);
  });

  webhookCommands(program);
}

interface HookOpts {
  address?: string;
  events?: string;
  type?: string;
  format?: string;
  authHeader?: string;
  secret?: string;
  skipCertVerify?: boolean;
  verifyCert?: boolean;
  description?: string;
  disabled?: boolean;
  name?: string;
}

/** The settings the flags give (only those given, for update). */
function hookSettings(o: HookOpts): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (o.name !== undefined) b.name = o.name;
  if (o.address !== undefined) b.address = o.address;
  if (o.events !== undefined) b.eventTypes = o.events.split(',').map((e) => e.trim().toUpperCase()).filter(Boolean);
  if (o.type !== undefined) b.targetType = o.type;
  if (o.format !== undefined) b.payloadFormat = o.format;
  if (o.authHeader !== undefined) b.authHeader = o.authHeader;
  if (o.secret !== undefined) b.secret = o.secret;
  if (o.skipCertVerify) b.skipCertVerify = true;
  if (o.verifyCert) b.skipCertVerify = false;
  if (o.description !== undefined) b.description = o.description;
  if (o.disabled) b.enabled = false;
  return b;
}

const HOOK_COLUMNS = ['id', 'name', 'targetType', 'payloadFormat', 'eventTypes', 'enabled', 'address'];

function webhookCommands(program: Command) {
  const wh = program.command('webhook').description("a registry's webhooks: HTTP or Slack notifications of pushes, pulls, deletes and cleanups");
  /** A webhook named by id or by name. */
  const resolve = async (c: Conn, registry: string, ref: string): Promise<string> => {
    const page = await call(c, 'GET', `/registries/${enc(registry)}/webhooks?perPage=100`);
    const hit = (page.items as { id: string; name: string }[]).find((w) => w.id === ref || w.name === ref);
    if (!hit) throw new Error(`NOT_FOUND: registry ${registry} has no webhook with id or name "${ref}"`);
    return hit.id;
  };
  const settingFlags = (cmd: Command) =>
    cmd
      .option('--events <types>', 'comma-separated: PUSH_ARTIFACT, PULL_ARTIFACT, DELETE_ARTIFACT, TAG_RETENTION, ...')
      .option('--type <type>', 'http (default) or slack')
      .option('--format <format>', 'Default (Harbor) or CloudEvents')
      .option('--auth-header <value>', 'sent as the Authorization header ("" removes it)')
      .option('--secret <secret>', 'HMAC-SHA256 signing secret for X-Ncr-Signature-256 ("" removes it)')
      .option('--skip-cert-verify', 'accept any TLS certificate from the receiver')
      .option('--description <text>');

  wh.command('list <registry>').action(async (registry: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', `/registries/${enc(registry)}/webhooks?perPage=100`), HOOK_COLUMNS);
  });
  settingFlags(wh.command('create <registry> <name>').requiredOption('--address <url>', 'http(s) URL to POST to').option('--disabled', 'create it disabled')).action(
    async (registry: string, name: string, o: HookOpts, cmd: Command) => {
      const c = conn(cmd);
      const body = { eventTypes: ['PUSH_ARTIFACT'], ...hookSettings(o), name };
      out(c, await call(c, 'POST', `/registries/${enc(registry)}/webhooks`, body), HOOK_COLUMNS);
    },
  );
  settingFlags(wh.command('update <registry> <webhook>').option('--name <name>').option('--address <url>').option('--verify-cert', 'verify the TLS certificate again')).action(
    async (registry: string, ref: string, o: HookOpts, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'PATCH', `/registries/${enc(registry)}/webhooks/${await resolve(c, registry, ref)}`, hookSettings(o)), HOOK_COLUMNS);
    },
  );
  for (const verb of ['enable', 'disable'] as const) {
    wh.command(`${verb} <registry> <webhook>`).action(async (registry: string, ref: string, _o, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'POST', `/registries/${enc(registry)}/webhooks/${await resolve(c, registry, ref)}/${verb}`), ['id', 'name', 'enabled']);
    });
  }
  wh.command('delete <registry> <webhook>').action(async (registry: string, ref: string, _o, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', `/registries/${enc(registry)}/webhooks/${await resolve(c, registry, ref)}`);
    process.stdout.write(`deleted webhook ${ref} of ${registry}\n`);
  });
  wh.command('deliveries <registry> <webhook>')
    .option('--status <status>', 'pending, retrying, succeeded, failed or cancelled')
    .action(async (registry: string, ref: string, o: { status?: string }, cmd: Command) => {
      const c = conn(cmd);
      const q = new URLSearchParams({ perPage: '100', ...(o.status ? { status: o.status } : {}) });
      out(c, await call(c, 'GET', `/registries/${enc(registry)}/webhooks/${await resolve(c, registry, ref)}/deliveries?${q}`), ['id', 'eventType', 'status', 'attempts', 'lastStatusCode', 'createdAt', 'lastError']);
    });
  wh.command('test <registry> <webhook>')
    .description('send a sample event now and show the outcome')
    .action(async (registry: string, ref: string, _o, cmd: Command) => {
      const c = conn(cmd);
      const d = await call(c, 'POST', `/registries/${enc(registry)}/webhooks/${await resolve(c, registry, ref)}/test`);
      out(c, d, ['id', 'eventType', 'status', 'lastStatusCode', 'lastError']);
      if (!c.json && d.status !== 'succeeded') process.exitCode = 1;
    });
  wh.command('redeliver <registry> <webhook> <deliveryId>')
    .description('send a failed delivery again')
    .action(async (registry: string, ref: string, deliveryId: string, _o, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'POST', `/registries/${enc(registry)}/webhooks/${await resolve(c, registry, ref)}/deliveries/${enc(deliveryId)}/redeliver`), ['id', 'eventType', 'status', 'redeliveryOf']);
    });
}
