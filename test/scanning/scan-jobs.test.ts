/**
 * Scanning as jobs, on a server of its own with a ManualClock (both databases): auto scan on push, the service-wide
 * schedule (Hourly fires at the next hour and scans every image), a rematch of kept package lists after new
 * vulnerability data, stopping a scan, the audit trail, and the webhook event types a finished scan becomes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { runCli } from '../helpers/cli-inprocess.js';
import { webhookTypesOf } from '../../src/domain/webhooks/event-types.js';
import { OciClient } from '../helpers/oci-client.js';
import { ALPINE_LAYERS, DEBIAN_LAYERS, FIXTURES, pushLayers } from '../helpers/scan-images.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

const HOUR = 3600_000;
const LODASH = { id: 'GHSA-35jh-r3h4-6jhm', aliases: ['CVE-2021-23337'], database_specific: { severity: 'HIGH' }, affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }] }] };

describe.each(DB_KINDS)('scan jobs (%s)', { timeout: 120_000 }, (db) => {
  let s: TestServer;
  let c: OciClient;
  // 2030-01-01 10:20 UTC: the next hour is 11:00
  const clock = new ManualClock(Date.UTC(2030, 0, 1, 10, 20));
  const status = async (repo: string, digest: string) => (await s.api('GET', `/api/v1/registries/${repo.split('/')[0]}/images/${repo.split('/').slice(1).join('/')}/artifacts/${digest}/scan`)).body;
  const settle = async () => {
    await s.app.flush();
    await s.app.jobs.runner.runDue();
    await s.app.flush();
  };

  beforeAll(async () => {
    s = await startServer({ db, adapters: { clock } });
    c = new OciClient(s.url, s.admin);
    for (const r of ['auto', 'manual']) expect((await s.api('POST', '/api/v1/registries', { name: r })).status).toBe(201);
  });
  afterAll(async () => s?.close());

  it('auto scan on push scans images pushed to a registry with it on, and only there', async () => {
    expect((await s.api('PUT', '/api/v1/registries/auto/scan/settings', { autoScan: true })).body.autoScan).toBe(true);
    const auto = await pushLayers(c, 'auto/debian', '12', DEBIAN_LAYERS);
    const manual = await pushLayers(c, 'manual/alpine', '3.17', ALPINE_LAYERS);
    await settle();
    expect(await status('auto/debian', auto)).toMatchObject({ status: 'Success', severity: 'None', total: 0 });
    expect(await status('manual/alpine', manual)).toMatchObject({ status: 'Not Scanned' });
    // the request is audited as the system's "auto scan"
    const audit = await s.api('GET', '/api/v1/audit?action=ScanRequested');
    expect(audit.body.items.map((e: any) => [e.actor, e.target])).toContainEqual(['auto scan', `auto/debian@${auto}`]);
  });

  it('new vulnerability data is matched against kept package lists (no new scan)', async () => {
    const digest = (await s.api('GET', '/api/v1/registries/auto/images/debian/artifacts')).body.items[0].digest;
    const before = await status('auto/debian', digest);
    const r = await fetch(`${s.url}/api/v1/vulndb/import?name=lodash.json`, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64'), 'content-type': 'application/json' },
      body: JSON.stringify(LODASH),
    });
    expect(await r.json()).toMatchObject({ source: 'osv', read: 1, written: 1, unchanged: 0 });
    await settle();
    const after = await status('auto/debian', digest);
    expect(after).toMatchObject({ status: 'Success', severity: 'High', total: 1, fixable: 1 });
    expect(after.startedAt).toBe(before.startedAt);
  });

  it('the schedule: cycles as the guide lists them, and Hourly scans every image at the next hour', async () => {
    const put = (body: unknown) => s.api('PUT', '/api/v1/scan/schedule', body);
    expect((await put({ cycle: 'Daily' })).body).toMatchObject({ cycle: 'Daily', cron: '0 0 * * *', nextAt: '2030-01-02T00:00:00.000Z' });
    expect((await put({ cycle: 'Weekly' })).body).toMatchObject({ cycle: 'Weekly', cron: '0 0 * * 6', nextAt: '2030-01-05T00:00:00.000Z' });
    expect((await put({ cycle: 'Custom', cron: '30 2 * * *' })).body).toMatchObject({ cycle: 'Custom', nextAt: '2030-01-02T02:30:00.000Z' });
    expect((await put({ cycle: 'Custom' })).status).toBe(400);
    expect((await put({ cycle: 'Custom', cron: 'not cron' })).status).toBe(400);
    expect((await put({ cycle: 'None' })).body).toMatchObject({ cycle: 'None', cron: null });
    expect((await s.api('GET', '/api/v1/scan/schedule')).body.cycle).toBe('None');
    expect((await put({ cycle: 'Hourly' })).body).toMatchObject({ cycle: 'Hourly', nextAt: '2030-01-01T11:00:00.000Z' });

    const manual = (await s.api('GET', '/api/v1/registries/manual/images/alpine/artifacts')).body.items[0].digest;
    await settle();
    expect((await status('manual/alpine', manual)).status).toBe('Not Scanned');
    clock.advance(HOUR);
    c = new OciClient(s.url, s.admin);
    await settle();
    await settle();
    expect(await status('manual/alpine', manual)).toMatchObject({ status: 'Success', total: 0 });
    const audit = await s.api('GET', '/api/v1/audit?action=ScanRequested');
    expect(audit.body.items.map((e: any) => [e.actor, e.target])).toContainEqual(['schedule', `manual/alpine@${manual}`]);
    await put({ cycle: 'None' });
  });

  it('the CLI: ncr vulndb import DIR, vulndb status, scan start --wait, scan report, scan settings', async () => {
    const env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey };
    const ncr = (...args: string[]) => runCli(args, env);
    const imported = await ncr('--json', 'vulndb', 'import', FIXTURES);
    expect(imported.code, imported.stderr).toBe(0);
    const rows = JSON.parse(imported.stdout) as { file: string; source: string; written: number }[];
    // the tracker's JSON alone, the directory's OSV records in one batch (the fixture's lodash record differs from the
    // one imported above, so it replaces it)
    expect(rows.map((r) => [r.file, r.source, r.written])).toEqual([
      ['debian-tracker.json', 'debian', 3],
      ['9 OSV records', 'osv', 9],
    ]);
    const again = await ncr('--json', 'vulndb', 'import', FIXTURES);
    expect((JSON.parse(again.stdout) as { written: number }[]).map((r) => r.written)).toEqual([0, 0]);
    const st = await ncr('vulndb', 'status');
    expect(st.stdout).toMatch(/osv\s+9\s+2030-01-01T11:20:00.000Z\s+0d 0h/);
    const scanned = await ncr('scan', 'start', 'auto/debian:12', '--wait');
    expect(scanned.code, scanned.stderr).toBe(0);
    expect(scanned.stdout).toMatch(/Success\s+Critical\s+5\s+4/);
    const report = await ncr('scan', 'report', 'auto/debian:12', '--severity', 'high');
    expect(report.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['ID SEVERITY', 'CVE-2021-44228 Critical', 'CVE-2021-23337 High']);
    const set = await ncr('scan', 'settings', 'auto', '--prevent', 'critical', '--allowlist', 'CVE-2021-44228');
    expect(set.stdout).toMatch(/true\s+Critical\s+allow\s+true\s+CVE-2021-44228/);
    await ncr('scan', 'settings', 'auto', '--prevent', 'none', '--common-allowlist');
  });

  it('stop: the status is Stopped at once, the job is cancelled, and a new scan may start', async () => {
    await s.app.jobs.runner.stop(); // nothing runs from here on: the scan stays queued
    const digest = await pushLayers(c, 'manual/alpine', 'again', [...ALPINE_LAYERS, [{ path: 'x', content: 'y' }]]);
    const path = `/api/v1/registries/manual/images/alpine/artifacts/${digest}/scan`;
    expect((await s.api('POST', `${path}/stop`)).status).toBe(409);
    expect((await s.api('POST', path)).body.status).toBe('Scanning');
    expect((await s.api('POST', path)).status).toBe(409);
    const stopped = await s.api('POST', `${path}/stop`);
    expect(stopped.body).toMatchObject({ status: 'Stopped', message: `stopped by admin` });
    expect((await s.api('POST', `${path}/stop`)).status).toBe(409);
    const jobs = await s.app.jobs.queue.list({ kind: 'scan.artifact', status: 'cancelled', page: 1, perPage: 100 });
    expect(jobs.items.some((j) => (j.payload as { digest: string }).digest === digest)).toBe(true);
    expect((await s.api('POST', path)).body.status).toBe('Scanning');
    const audit = await s.api('GET', '/api/v1/audit?action=ScanStopRequested');
    expect(audit.body.items.map((e: any) => e.target)).toContain(`manual/alpine@${digest}`);
  });

  it('a finished scan is SCANNING_COMPLETED, FAILED or STOPPED for webhooks', () => {
    const base = { at: 0, actor: { userId: null, username: 'system' }, repository: 'r/app', digest: 'sha256:' + 'a'.repeat(64) };
    expect(webhookTypesOf({ ...base, type: 'ScanFinished', status: 'Success', severity: 'High', total: 2, fixable: 1 }).map((d) => d.type)).toEqual(['SCANNING_COMPLETED']);
    expect(webhookTypesOf({ ...base, type: 'ScanFinished', status: 'Error', message: 'x' }).map((d) => d.type)).toEqual(['SCANNING_FAILED']);
    expect(webhookTypesOf({ ...base, type: 'ScanFinished', status: 'Stopped' }).map((d) => d.type)).toEqual(['SCANNING_STOPPED']);
    const def = webhookTypesOf({ ...base, type: 'ScanFinished', status: 'Success', severity: 'High', total: 2, fixable: 1 })[0]!;
    const data = def.source!.data({ ...base, type: 'ScanFinished', status: 'Success', severity: 'High', total: 2, fixable: 1 }, { registryHost: 'reg.example' }) as any;
    expect(data.resources[0].scan_overview['application/vnd.security.vulnerability.report; version=1.1']).toEqual({ scan_status: 'Success', severity: 'High', summary: { total: 2, fixable: 1 } });
    expect(data.repository.repo_full_name).toBe('r/app');
  });
});
