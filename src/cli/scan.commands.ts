/**
 * `ncr vulndb import PATH...` (files, directories of OSV records, OSV all.zip files, the Debian security tracker's
 * JSON) and `ncr vulndb status`; `ncr scan start|stop|status|report <registry/image[:tag|@digest]>`; `ncr scan
 * settings <registry>`, `ncr scan allowlist`, `ncr scan schedule`. Everything over /api/v1.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { call, conn, out, type Conn } from './client.js';
import { parseImageRef, resolveDigest } from './trust.commands.js';

const enc = encodeURIComponent;
/** OSV records of a directory are sent in batches of about this many bytes (one request per record would be slow). */
const BATCH_BYTES = 8 * 1024 * 1024;

async function upload(c: Conn, name: string, body: Uint8Array): Promise<{ source: string; read: number; written: number; unchanged: number; skipped: number }> {
  let res: Response;
  try {
    res = await fetch(`${c.url}/api/v1/vulndb/import?name=${enc(name)}`, {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(`${c.accessKey}:${c.secretKey}`).toString('base64'), 'content-type': 'application/octet-stream' },
      body: body as RequestInit['body'],
    });
  } catch (err) {
    throw new Error(`cannot reach ${c.url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const data = (await res.json().catch(() => undefined)) as any;
  if (!res.ok) throw new Error(`${name}: ${data?.errors?.[0] ? `${data.errors[0].code}: ${data.errors[0].message}` : `HTTP ${res.status}`}`);
  return data;
}

async function* filesUnder(path: string): AsyncGenerator<string> {
  if (!(await stat(path)).isDirectory()) {
    yield path;
    return;
  }
  for (const e of (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(path, e.name);
    if (e.isDirectory()) yield* filesUnder(p);
    else if (/\.(json|zip)$/i.test(e.name)) yield p;
  }
}

export function scanCommands(program: Command) {
  const vdb = program.command('vulndb').description('the offline vulnerability data scans match against');
  vdb
    .command('import <paths...>')
    .description('import OSV records (files or directories), OSV all.zip files, or the Debian security tracker JSON (admins); only new or changed advisories are written')
    .action(async (paths: string[], _o, cmd: Command) => {
      const c = conn(cmd);
      const results: { file: string; source: string; read: number; written: number; unchanged: number; skipped: number }[] = [];
      let batch: string[] = [];
      let size = 0;
      const flush = async () => {
        if (!batch.length) return;
        results.push({ file: `${batch.length} OSV records`, ...(await upload(c, `${batch.length} OSV records`, Buffer.from(`[${batch.join(',')}]`))) });
        batch = [];
        size = 0;
      };
      for (const p of paths) {
        const dir = (await stat(p)).isDirectory();
        for await (const f of filesUnder(p)) {
          const bytes = await readFile(f);
          // a directory's single OSV records travel together; anything else (zip, tracker JSON, arrays) alone
          const single = dir && f.endsWith('.json') && bytes.length < BATCH_BYTES && /^\s*\{\s*"(schema_version|id|modified)"/.test(bytes.subarray(0, 200).toString('utf8'));
          if (single) {
            batch.push(bytes.toString('utf8'));
            size += bytes.length;
            if (size >= BATCH_BYTES) await flush();
          } else results.push({ file: basename(f), ...(await upload(c, basename(f), bytes)) });
        }
        await flush();
      }
      out(c, results, ['file', 'source', 'read', 'written', 'unchanged', 'skipped']);
    });
  vdb.command('status').description('the imported data per source, and its age').action(async (_o, cmd: Command) => {
    const c = conn(cmd);
    const v = await call(c, 'GET', '/vulndb');
    out(c, { items: v.sources.map((s: any) => ({ ...s, age: `${Math.floor(s.ageSeconds / 86400)}d ${Math.floor((s.ageSeconds % 86400) / 3600)}h` })) }, ['source', 'advisories', 'importedAt', 'age']);
  });

  const scan = program.command('scan').description('vulnerability scans of artifacts, scan settings, CVE allow lists and the scan schedule');
  const artifactPath = async (c: Conn, ref: string) => {
    const r = parseImageRef(ref);
    const digest = await resolveDigest(c, r);
    const slash = r.repo.indexOf('/');
    return { path: `/registries/${enc(r.repo.slice(0, slash))}/images/${enc(r.repo.slice(slash + 1))}/artifacts/${digest}/scan`, digest };
  };
  const COLS = ['status', 'severity', 'total', 'fixable', 'message'];
  scan
    .command('start <ref>')
    .description('scan an artifact (registry/image:tag or registry/image@digest)')
    .option('--wait', 'wait until the scan has finished')
    .action(async (ref: string, o: { wait?: boolean }, cmd: Command) => {
      const c = conn(cmd);
      const { path } = await artifactPath(c, ref);
      let s = await call(c, 'POST', path);
      while (o.wait && s.status === 'Scanning') {
        await new Promise((r) => setTimeout(r, 500));
        s = await call(c, 'GET', path);
      }
      out(c, s, COLS);
      if (o.wait && s.status !== 'Success') process.exitCode = 1;
    });
  scan.command('stop <ref>').action(async (ref: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', `${(await artifactPath(c, ref)).path}/stop`), COLS);
  });
  scan.command('status <ref>').action(async (ref: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', (await artifactPath(c, ref)).path), COLS);
  });
  scan
    .command('report <ref>')
    .description("the last scan's vulnerabilities (--json: Harbor's report)")
    .option('--severity <s>', 'only this severity or worse')
    .action(async (ref: string, o: { severity?: string }, cmd: Command) => {
      const c = conn(cmd);
      const rep = Object.values(await call(c, 'GET', `${(await artifactPath(c, ref)).path}/report`))[0] as any;
      const order = ['None', 'Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'];
      const min = o.severity ? order.findIndex((x) => x.toLowerCase() === o.severity!.toLowerCase()) : 0;
      if (min < 0) throw new Error(`--severity is one of ${order.join(', ')}`);
      if (c.json) return out(c, rep);
      out(c, { items: rep.vulnerabilities.filter((v: any) => order.indexOf(v.severity) >= min).map((v: any) => ({ ...v, allowlisted: v.vendor_attributes?.allowlisted ? 'yes' : '' })) }, ['id', 'severity', 'package', 'version', 'fix_version', 'allowlisted']);
    });
  scan
    .command('settings <registry>')
    .description("show or change a registry's scan settings")
    .option('--auto-scan <on|off>')
    .option('--prevent <severity|none>', 'refuse pulls of images with vulnerabilities of this severity or worse')
    .option('--unscanned <allow|refuse>')
    .option('--allowlist <cves>', "the registry's own CVE allow list (commas); replaces the common one")
    .option('--common-allowlist', 'use the common allow list again')
    .action(async (registry: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const c = conn(cmd);
      const patch: Record<string, unknown> = {};
      if (o.autoScan !== undefined) patch.autoScan = o.autoScan === 'on';
      if (o.prevent !== undefined) patch.preventSeverity = o.prevent === 'none' ? null : String(o.prevent).charAt(0).toUpperCase() + String(o.prevent).slice(1).toLowerCase();
      if (o.unscanned !== undefined) patch.unscanned = o.unscanned;
      if (o.allowlist !== undefined) Object.assign(patch, { allowlist: o.allowlist, useOwnAllowlist: true });
      if (o.commonAllowlist) patch.useOwnAllowlist = false;
      const path = `/registries/${enc(registry)}/scan/settings`;
      out(c, Object.keys(patch).length ? await call(c, 'PUT', path, patch) : await call(c, 'GET', path), ['autoScan', 'preventSeverity', 'unscanned', 'useOwnAllowlist', 'allowlist', 'allowlistExpiresAt']);
    });
  scan
    .command('allowlist [cves]')
    .description('show or set (admins) the common CVE allow list: CVE IDs separated by commas')
    .option('--expires <date-time>')
    .action(async (cves: string | undefined, o: { expires?: string }, cmd: Command) => {
      const c = conn(cmd);
      out(c, cves === undefined ? await call(c, 'GET', '/scan/allowlist') : await call(c, 'PUT', '/scan/allowlist', { allowlist: cves, expiresAt: o.expires ?? null }), ['allowlist', 'expiresAt']);
    });
  scan
    .command('schedule [cycle] [cron]')
    .description('show or set (admins) when every image is scanned: None, Hourly, Daily, Weekly or Custom "<cron>" (UTC)')
    .action(async (cycle: string | undefined, cron: string | undefined, _o, cmd: Command) => {
      const c = conn(cmd);
      const norm = cycle && cycle.charAt(0).toUpperCase() + cycle.slice(1).toLowerCase();
      out(c, cycle === undefined ? await call(c, 'GET', '/scan/schedule') : await call(c, 'PUT', '/scan/schedule', { cycle: norm, cron: cron ?? null }), ['cycle', 'cron', 'nextAt']);
    });
}
