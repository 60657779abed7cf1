/** `ncr cleanup ...` and `ncr protection ...` against a real server, on each database (the commands run in-process; test/cli covers the binary). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeep } from '../../src/cli/policies.commands.js';
import { runCli } from '../helpers/cli-inprocess.js';
import { OciClient } from '../helpers/oci-client.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

describe.each(DB_KINDS)('ncr cleanup / protection (%s)', { timeout: 120_000 }, (db) => {
  let s: TestServer;
  let env: Record<string, string>;
  const ncr = (...args: string[]) => runCli(args, env);
  beforeAll(async () => {
    s = await startServer({ db });
    env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey };
    expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    const c = new OciClient(s.url, s.admin);
    await c.pushImage('team/app', 'v1', 'cli-1');
    await c.pushImage('team/app', 'ci-1', 'cli-2');
  });
  afterAll(async () => s?.close());

  it('adds, lists, disables and deletes policies; runs a test run and shows the history', async () => {
    const prot = await ncr('protection', 'add', 'team', '--tag', 'v*', '--json');
    expect(prot.code, prot.stderr).toBe(0);
    const protId = JSON.parse(prot.stdout).id as string;
    const add = await ncr('cleanup', 'add', 'team', '--image', 'app', '--keep', 'nothing');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/true\s+cleanup policy \w+ \(images matching glob "app", tags matching glob "\*\*", keep nothing\)/);
    const dup = await ncr('cleanup', 'add', 'team', '--image', 'app', '--keep', 'nothing');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/CONFLICT: .*already has this cleanup policy/);
    const bad = await ncr('cleanup', 'add', 'team', '--keep', 'latest-pushed');
    expect(bad.stderr).toMatch(/give a whole number/);
    const list = await ncr('cleanup', 'list', 'team', '--json');
    const id = JSON.parse(list.stdout).items[0].id as string;
    expect((await ncr('cleanup', 'disable', 'team', id)).stdout).toMatch(/false/);
    expect((await ncr('cleanup', 'enable', 'team', id)).stdout).toMatch(/true/);

    const started = await ncr('cleanup', 'test-run', 'team', '--json');
    const eid = JSON.parse(started.stdout).id as string;
    await s.app.jobs.runner.runDue();
    const shown = await ncr('execution', 'show', eid);
    expect(shown.stdout).toMatch(/team\/app@sha256:\w+\s+skipped\s+a protection policy covers it/);
    expect(shown.stdout).toMatch(/team\/app@sha256:\w+\s+succeeded\s+would delete/);
    const history = await ncr('cleanup', 'history', 'team');
    expect(history.stdout).toContain(eid);

    const sched = await ncr('cleanup', 'schedule', 'team', '30 2 * * SUN');
    expect(sched.code, sched.stderr).toBe(0);
    expect(sched.stdout).toMatch(/30 2 \* \* (SUN|0)/);
    expect((await ncr('cleanup', 'schedule', 'team', 'off')).stdout).toMatch(/^CRON/);
    expect((await ncr('cleanup', 'delete', 'team', id)).code).toBe(0);
    expect((await ncr('protection', 'delete', 'team', protId)).code).toBe(0);
    expect((await ncr('protection', 'list', 'team')).stdout).toBe('(none)\n');
  });

  it('reads --keep', () => {
    expect(parseKeep('pulled-within:7')).toEqual({ keep: 'pulledWithinDays', n: 7 });
    expect(() => parseKeep('forever')).toThrow(/use latest-pushed:N/);
  });
});
