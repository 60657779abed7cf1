import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { rpmHeaderBlob, tarGz } from '../../../test/helpers/scan-layers.js';
import { detect } from '../../domain/scanning/detect.js';
import { indexLayer, mergeLayers } from '../../domain/scanning/layers.js';
import { affects } from '../../domain/scanning/match.js';
import { readRpmDbSqlite } from './rpmdb-sqlite.js';

async function* once(b: Uint8Array) {
  yield b;
}

describe('rpm databases (rpmdb.sqlite)', () => {
  it('lists the packages of an AlmaLinux-like image with their source rpm, skipping gpg-pubkey', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
    const ins = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
    ins.run(rpmHeaderBlob({ name: 'openssl-libs', epoch: 1, version: '3.0.7', release: '24.el9', sourceRpm: 'openssl-3.0.7-24.el9.src.rpm' }));
    ins.run(rpmHeaderBlob({ name: 'bash', version: '5.1.8', release: '6.el9_1', sourceRpm: 'bash-5.1.8-6.el9_1.src.rpm' }));
    ins.run(rpmHeaderBlob({ name: 'gpg-pubkey', version: 'b86b3716', release: '61e69f29' }));
    const bytes = db.serialize();
    db.close();
    const layer = await indexLayer(
      once(await tarGz([{ path: 'etc/os-release', content: 'NAME="AlmaLinux"\nID="almalinux"\nVERSION_ID="9.3"\n' }, { path: 'var/lib/rpm/rpmdb.sqlite', content: bytes }])),
      readRpmDbSqlite,
    );
    const inv = detect(mergeLayers([layer]));
    expect(inv.packages.map((p) => `${p.ecosystem} ${p.name} ${p.version}${p.source ? ` src=${p.source.name}@${p.source.version}` : ''}`)).toEqual([
      'AlmaLinux:9 bash 5.1.8-6.el9_1',
      'AlmaLinux:9 openssl-libs 1:3.0.7-24.el9 src=openssl@1:3.0.7-24.el9',
    ]);
    // an AlmaLinux OSV range on the source package (epoch:version-release), against an older and a newer build
    const alsa = { ecosystem: 'AlmaLinux:9', package: 'openssl', versions: [], ranges: [{ type: 'ECOSYSTEM' as const, events: [{ introduced: '0' }, { fixed: '1:3.0.7-16.el9_2' }] }] };
    expect(affects(alsa, '1:3.0.7-6.el9_2')).toEqual({ affected: true, fixed: '1:3.0.7-16.el9_2' });
    expect(affects(alsa, '1:3.0.7-24.el9')).toEqual({ affected: false });
  });
});
