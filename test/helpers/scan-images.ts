/**
 * The scanner tests' images, built in memory and pushed over /v2: a Debian bookworm-like image in three layers (the
 * second whites out a vulnerable distroless dpkg entry and empties a directory holding an old lodash), and an
 * Alpine 3.17-like one. What each holds is listed beside it, with what the OSV fixture makes of it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciClient } from './oci-client.js';
import { pomProperties, storedZip, tarGz, type LayerEntry } from './scan-layers.js';

export const FIXTURES = new URL('../fixtures/vulndb/', import.meta.url).pathname;

const DPKG_STATUS = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u1
Description: GNU C Library: Shared libraries

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime

Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u1
Description: Debian base system miscellaneous files
`;

export const DEBIAN_LAYERS: LayerEntry[][] = [
  [
    { path: 'etc/os-release', link: '../usr/lib/os-release' },
    { path: 'usr/lib/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n' },
    { path: 'var/lib/dpkg/status', content: DPKG_STATUS },
    // distroless-style entry, whited out by the next layer: CVE-2023-0286 must not be found
    { path: 'var/lib/dpkg/status.d/libssl3', content: 'Package: libssl3\nVersion: 3.0.7-1\nArchitecture: amd64\nSource: openssl\n' },
    { path: 'app/node_modules/lodash/package.json', content: JSON.stringify({ name: 'lodash', version: '4.17.20' }) },
    { path: 'app/node_modules/minimist/package.json', content: JSON.stringify({ name: 'minimist', version: '1.2.6' }) },
    { path: 'old/node_modules/lodash/package.json', content: JSON.stringify({ name: 'lodash', version: '4.17.15' }) },
  ],
  [
    { path: 'var/lib/dpkg/status.d/.wh.libssl3', content: '' },
    { path: 'old/.wh..wh..opq', content: '' },
    { path: 'old/README', content: 'emptied\n' },
  ],
  [
    { path: 'usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/METADATA', content: 'Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\nSummary: A very fast and expressive template engine.\n' },
    { path: 'usr/lib/python3/dist-packages/urllib3-2.2.2.dist-info/METADATA', content: 'Metadata-Version: 2.3\nName: urllib3\nVersion: 2.2.2\n' },
    { path: 'opt/app/lib/log4j-core-2.14.1.jar', content: pomProperties('org.apache.logging.log4j', 'log4j-core', '2.14.1') },
  ],
];

export const ALPINE_LAYERS: LayerEntry[][] = [
  [
    { path: 'etc/os-release', content: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.17.0\nPRETTY_NAME="Alpine Linux v3.17"\n' },
    {
      path: 'lib/apk/db/installed',
      content: ['P:busybox\nV:1.35.0-r29\nA:x86_64\no:busybox\n', 'P:libcrypto3\nV:3.0.7-r0\nA:x86_64\no:openssl\n', 'P:libssl3\nV:3.0.7-r0\nA:x86_64\no:openssl\n', 'P:zlib\nV:1.2.13-r0\nA:x86_64\no:zlib\n'].join('\n'),
    },
  ],
];

/** Pushes the layers (tar+gzip), a config and the manifest; returns the manifest digest. */
export async function pushLayers(c: OciClient, repo: string, tag: string, layers: LayerEntry[][]): Promise<string> {
  const blobs = await Promise.all(layers.map((l) => tarGz(l)));
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  const configDigest = await c.pushBlob(repo, config);
  const descs = [];
  for (const b of blobs) descs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await c.pushBlob(repo, b), size: b.length });
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: descs });
  const res = await c.pushManifest(repo, tag, manifest);
  if (res.status !== 201) throw new Error(`push ${repo}:${tag}: ${res.status} ${await res.text()}`);
  return res.headers.get('docker-content-digest')!;
}

/** The OSV fixture: half of the records as single files, the other half in an all.zip-like zip. */
export async function osvUploads(): Promise<{ name: string; body: Buffer }[]> {
  const names = (await readdir(join(FIXTURES, 'osv'))).sort();
  const files = await Promise.all(names.map(async (n) => ({ name: n, body: await readFile(join(FIXTURES, 'osv', n)) })));
  const half = Math.ceil(files.length / 2);
  return [...files.slice(0, half), { name: 'all.zip', body: storedZip(files.slice(half).map((f) => ({ name: f.name, content: f.body.toString('utf8') }))) }];
}
