import { describe, expect, it } from 'vitest';
import { parseDebianTracker, parseOsv } from './advisories.js';
import { affects } from './match.js';

describe('OSV and Debian tracker data', () => {
  it('matches OSV ECOSYSTEM ranges with the ecosystem ordering, SEMVER with semver, and listed versions', () => {
    const deb = { ecosystem: 'Debian:12', package: 'zlib', versions: [], ranges: [{ type: 'ECOSYSTEM' as const, events: [{ introduced: '0' }, { fixed: '1:1.2.13.dfsg-1+deb12u1' }] }] };
    expect(affects(deb, '1:1.2.13.dfsg-1')).toEqual({ affected: true, fixed: '1:1.2.13.dfsg-1+deb12u1' });
    expect(affects(deb, '1:1.2.13.dfsg-1+deb12u1')).toEqual({ affected: false });
    expect(affects(deb, '1.2.13.dfsg-1')).toEqual({ affected: true, fixed: '1:1.2.13.dfsg-1+deb12u1' }); // no epoch: older
    const npm = { ecosystem: 'npm', package: 'lodash', versions: [], ranges: [{ type: 'SEMVER' as const, events: [{ introduced: '0' }, { fixed: '4.17.21' }] }] };
    expect(affects(npm, '4.17.20')).toEqual({ affected: true, fixed: '4.17.21' });
    expect(affects(npm, '4.17.21')).toEqual({ affected: false });
    const two = { ecosystem: 'Maven', package: 'x:y', versions: [], ranges: [{ type: 'ECOSYSTEM' as const, events: [{ introduced: '2.0' }, { fixed: '2.15.0' }, { introduced: '2.16.0' }, { last_affected: '2.16.5' }] }] };
    expect(affects(two, '1.9')).toEqual({ affected: false });
    expect(affects(two, '2.14.1')).toEqual({ affected: true, fixed: '2.15.0' });
    expect(affects(two, '2.15.1')).toEqual({ affected: false });
    expect(affects(two, '2.16.5')).toEqual({ affected: true });
    expect(affects(two, '2.16.6')).toEqual({ affected: false });
    expect(affects({ ecosystem: 'PyPI', package: 'p', versions: ['1.0', '1.1'], ranges: [] }, '1.1')).toEqual({ affected: true });
    expect(affects({ ecosystem: 'Hex', package: 'p', versions: ['1.0'], ranges: [] }, '1.0')).toBeUndefined();
    // GO-2022-1059 (CVE-2022-32149): golang.org/x/text before 0.3.8
    const text = { ecosystem: 'Go', package: 'golang.org/x/text', versions: [], ranges: [{ type: 'SEMVER' as const, events: [{ introduced: '0' }, { fixed: '0.3.8' }] }] };
    expect(affects(text, '0.3.7')).toEqual({ affected: true, fixed: '0.3.8' });
    expect(affects(text, '0.14.0')).toEqual({ affected: false });
  });

  it('parses an OSV record: severity from its CVSS vector, else its rating; GIT ranges dropped; withdrawn ignored', () => {
    const a = parseOsv({
      id: 'GHSA-jfh8-c2jp-5v3q',
      aliases: ['CVE-2021-44228'],
      summary: 'Remote code injection in Log4j',
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' }],
      affected: [{ package: { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }] }, { type: 'GIT', repo: 'x', events: [{ introduced: 'abc' }] }] }],
      references: [{ type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-44228' }],
      database_specific: { severity: 'CRITICAL' },
    })!;
    expect(a).toMatchObject({ id: 'GHSA-jfh8-c2jp-5v3q', severity: 'Critical', cvssScore: 10, links: ['https://nvd.nist.gov/vuln/detail/CVE-2021-44228'] });
    expect(a.affected[0]!.ranges).toHaveLength(1);
    expect(parseOsv({ id: 'X', database_specific: { severity: 'MODERATE' }, affected: [{ package: { ecosystem: 'npm', name: 'a' }, versions: ['1.0.0'] }] })!.severity).toBe('Medium');
    expect(parseOsv({ id: 'X', withdrawn: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'a' }, versions: ['1.0.0'] }] })).toBeUndefined();
    // the digest changes with the content only
    const same = parseOsv({ id: 'X', affected: [{ package: { ecosystem: 'npm', name: 'a' }, versions: ['1.0.0'] }] })!;
    expect(parseOsv({ id: 'X', affected: [{ package: { ecosystem: 'npm', name: 'a' }, versions: ['1.0.0'] }] })!.digest).toBe(same.digest);
    expect(parseOsv({ id: 'X', affected: [{ package: { ecosystem: 'npm', name: 'a' }, versions: ['1.0.1'] }] })!.digest).not.toBe(same.digest);
  });

  it('parses the Debian security tracker per release, skipping never-affected ones', () => {
    const list = parseDebianTracker({
      zlib: {
        'CVE-2023-45853': { description: 'MiniZip in zlib through 1.3 has an integer overflow', releases: { bookworm: { status: 'open', urgency: 'unimportant' }, bullseye: { status: 'resolved', fixed_version: '0', urgency: 'unimportant' } } },
        'CVE-2022-37434': { description: 'zlib through 1.2.12 has a heap-based buffer over-read', releases: { bookworm: { status: 'resolved', fixed_version: '1:1.2.11.dfsg-4.1', urgency: 'high' }, sid: { status: 'resolved', fixed_version: '1:1.2.11.dfsg-4.1' } } },
      },
    });
    expect(list.map((a) => [a.id, a.severity, a.affected.map((x) => `${x.ecosystem} ${x.package} ${JSON.stringify(x.ranges[0]!.events)}`)])).toEqual([
      ['CVE-2023-45853', 'Negligible', ['Debian:12 zlib [{"introduced":"0"}]']],
      ['CVE-2022-37434', 'High', ['Debian:12 zlib [{"introduced":"0"},{"fixed":"1:1.2.11.dfsg-4.1"}]']],
    ]);
  });
});
