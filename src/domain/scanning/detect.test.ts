import { describe, expect, it } from 'vitest';
import { fakeGoBinary, pomProperties, tarBytes, tarGz } from '../../../test/helpers/scan-layers.js';
import { detect } from './detect.js';
import { indexLayer, mergeLayers } from './layers.js';

async function* chunks(b: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const DPKG = `Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library
 Shared libraries.

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib (1:1.2.13.dfsg-1)
Version: 1:1.2.13.dfsg-1

Package: removed-one
Status: deinstall ok config-files
Version: 1.0-1
`;

describe('layers and detection', () => {
  it('reads gzip, zstd and plain tar layers in small chunks', async () => {
    const plain = await tarBytes([{ path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }]);
    expect((await indexLayer(chunks(plain))).files['etc/os-release']).toContain('ID=debian');
    expect((await indexLayer(chunks(await tarGz([{ path: './var/lib/dpkg/status', content: DPKG }])))).files['var/lib/dpkg/status']).toBe(DPKG);
    // `zstd -19` of a tar with etc/alpine-release and lib/apk/db/installed (Node 20's zlib has no zstd to make one)
    const zst = Buffer.from('KLUv/WQACwUFAFIIHBlgzwM0i4u0T5iL+qArO6CirSW9QUBUQJECEZNzmYNFDRb8BLyb0T1VmBXZK1eWIqxgbP2EHhF6lLO5GFcqQ86zzXuk+qyDm70j3sV276lSuWohgO/NHUYIpcfgm+DdpJzu3jfXi+8EXMiRcH0MdQMQIDArVlgd0FHBPQxUQINWxtTMDnMDTFl9lUlLBfgMZumA5T2tkGA6bE9HaRhT7Jia', 'base64');
    const inv = detect(mergeLayers([await indexLayer(chunks(zst))]));
    expect(inv.os).toMatchObject({ id: 'alpine', versionId: '3.19.1' });
    expect(inv.packages).toEqual([{ ecosystem: 'Alpine:v3.19', name: 'busybox', version: '1.36.1-r15', path: 'lib/apk/db/installed', kind: 'os' }]);
  });

  it('rejects a layer that is not a tar', async () => {
    await expect(indexLayer(chunks(Buffer.from('this is not a tar archive at all, just text that goes on'.repeat(20))))).rejects.toThrow();
  });

  it('follows etc/os-release to usr/lib, reads dpkg with Source, skips deinstalled, applies whiteouts in order', async () => {
    const base = await indexLayer(
      chunks(
        await tarGz([
          { path: 'etc/os-release', link: '../usr/lib/os-release' },
          { path: 'usr/lib/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
          { path: 'var/lib/dpkg/status', content: DPKG },
          { path: 'app/node_modules/lodash/package.json', content: '{"name":"lodash","version":"4.17.20"}' },
          { path: 'app/node_modules/@babel/traverse/package.json', content: '{"name":"@babel/traverse","version":"7.22.0"}' },
          { path: 'app/node_modules/lodash/node_modules/x/other.json', content: '{}' },
          { path: 'old/node_modules/minimist/package.json', content: '{"name":"minimist","version":"1.2.5"}' },
          { path: 'usr/lib/python3/site-packages/Jinja2-3.1.2.dist-info/METADATA', content: 'Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\n\nBody: ignored\n' },
          { path: 'opt/app/lib/log4j-core-2.14.1.jar', content: pomProperties('org.apache.logging.log4j', 'log4j-core', '2.14.1') },
        ]),
      ),
    );
    const upper = await indexLayer(
      chunks(
        await tarGz([
          { path: 'old/.wh..wh..opq', content: '' },
          { path: 'old/kept.txt', content: 'x' },
          { path: 'opt/app/lib/.wh.log4j-core-2.14.1.jar', content: '' },
          { path: 'var/lib/dpkg/status', content: DPKG.split('\n\n')[0]! + '\n' },
        ]),
      ),
    );
    const inv = detect(mergeLayers([base, upper]));
    expect(inv.os).toEqual({ id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
    expect(inv.packages.map((p) => `${p.ecosystem} ${p.name} ${p.version}${p.source ? ` src=${p.source.name}@${p.source.version}` : ''}`)).toEqual([
      'Debian:12 libc6 2.36-9+deb12u4 src=glibc@2.36-9+deb12u4',
      'npm @babel/traverse 7.22.0',
      'npm lodash 4.17.20',
      'PyPI jinja2 3.1.2',
    ]);
    // without the upper layer: zlib1g (its Source version differs), minimist and the jar are there
    const below = detect(mergeLayers([base]));
    expect(below.packages.find((p) => p.name === 'zlib1g')?.source).toEqual({ name: 'zlib', version: '1:1.2.13.dfsg-1' });
    expect(below.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['minimist', 'org.apache.logging.log4j:log4j-core']));
    expect(below.packages.map((p) => p.name)).not.toContain('removed-one');
  });

  it('reads distroless dpkg status.d files', async () => {
    const l = await indexLayer(chunks(await tarGz([{ path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }, { path: 'var/lib/dpkg/status.d/base', content: 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n' }])));
    expect(detect(mergeLayers([l])).packages).toEqual([{ ecosystem: 'Debian:12', name: 'base-files', version: '12.4+deb12u5', path: 'var/lib/dpkg/status.d/base', kind: 'os' }]);
  });

  it('reads the Go build info of executables: main module, dependencies (replaced ones as replaced), stdlib', async () => {
    const modinfo = 'path\texample.com/app\nmod\texample.com/app\tv1.4.0\th1:abc=\ndep\tgolang.org/x/text\tv0.3.7\th1:def=\ndep\tgithub.com/old/x\tv1.0.0\n=>\tgithub.com/new/x\tv1.1.0\th1:ghi=\nbuild\t-compiler=gc\n';
    const l = await indexLayer(
      chunks(
        await tarGz([
          { path: 'usr/local/bin/app', content: fakeGoBinary('go1.20.1', modinfo), mode: 0o755 },
          // the same bytes without the executable bit, and an executable that is not ELF: not read
          { path: 'srv/app.copy', content: fakeGoBinary('go1.20.1', modinfo) },
          { path: 'usr/local/bin/script', content: '#!/bin/sh\n' + 'echo go buildinf\n'.repeat(200), mode: 0o755 },
        ]),
      ),
    );
    expect(detect(mergeLayers([l])).packages.map((p) => `${p.ecosystem} ${p.name} ${p.version} ${p.path}`)).toEqual([
      'Go example.com/app 1.4.0 usr/local/bin/app',
      'Go github.com/new/x 1.1.0 usr/local/bin/app',
      'Go golang.org/x/text 0.3.7 usr/local/bin/app',
      'Go stdlib 1.20.1 usr/local/bin/app',
    ]);
  });
});
