import { describe, expect, it } from 'vitest';
import { compareApk, compareDpkg, compareMaven, comparePython, compareRpm, compareSemver } from './index.js';

const sign = (n: number) => Math.sign(n) + 0;

/** Each table row: a, b, expected sign of compare(a, b); both directions are checked. */
function table(name: string, cmp: (a: string, b: string) => number, rows: [string, string, number][]) {
  describe(name, () => {
    for (const [a, b, want] of rows) {
      it(`${a} ${want < 0 ? '<' : want > 0 ? '>' : '='} ${b}`, () => {
        expect(sign(cmp(a, b))).toBe(want);
        expect(sign(cmp(b, a))).toBe(0 - want + 0);
      });
    }
  });
}

/** A chain in ascending order, as the specs publish them: every earlier element sorts before every later one. */
function chain(name: string, cmp: (a: string, b: string) => number, ordered: string[]) {
  it(`${name}: the published ordering`, () => {
    for (let i = 0; i < ordered.length; i++) for (let j = 0; j < ordered.length; j++) expect([ordered[i], ordered[j], sign(cmp(ordered[i]!, ordered[j]!))]).toEqual([ordered[i], ordered[j], sign(i - j)]);
  });
}

// deb-version(7) and dpkg's t/dpkg_version.t
table('dpkg', compareDpkg, [
  ['1.0', '1.0', 0],
  ['0:1.0', '1.0', 0],
  ['1.0', '1.0-1', -1],
  ['1.0~rc1', '1.0', -1],
  ['1.0~~', '1.0~', -1],
  ['1.0~~a', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.0', '1.0a', -1],
  ['1:1.0', '2.0', 1],
  ['1.0-1', '1.0-1+b1', -1],
  ['7.6p2-4', '7.6-0', 1],
  ['1.0.3-3', '1.0-1', 1],
  ['1.2.13.dfsg-1', '1.2.13.dfsg-1+deb12u1', -1],
  ['2.36-9+deb12u4', '2.36-9+deb12u10', -1],
  ['1.18.1-1', '1.18.10-1', -1],
  ['3.0.11-1~deb12u2', '3.0.11-1', -1],
  ['0.9', '0.10', -1],
  ['1.001', '1.1', 0],
]);

// apk-tools test/version.data (subset)
table('apk', compareApk, [
  ['1.0', '1.0', 0],
  ['1.0', '1.0-r1', -1],
  ['1.0_alpha', '1.0', -1],
  ['1.0_alpha', '1.0_beta', -1],
  ['1.0_beta1', '1.0_beta2', -1],
  ['1.0_rc1', '1.0', -1],
  ['1.0', '1.0_p1', -1],
  ['1.0', '1.0a', -1],
  ['1.0a', '1.0b', -1],
  ['1.0a', '1.0.1', -1],
  ['1.2.3-r0', '1.2.3-r1', -1],
  ['3.0.8-r0', '3.0.10-r0', -1],
  ['1.36.1-r5', '1.36.1-r15', -1],
  ['2.34', '0.1.0_alpha', 1],
  ['1.0_git20230101', '1.0', 1],
  ['1.0_rc1-r3', '1.0-r0', -1],
]);

// rpm's tests/rpmvercmp.at
table('rpm', compareRpm, [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['2.0.1', '2.0.1a', -1],
  ['5.5p1', '5.5p2', -1],
  ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1],
  ['xyz10', 'xyz10.1', -1],
  ['2a', '2.0', -1],
  ['1.0aa', '1.0a', 1],
  ['6.0.rc1', '6.0', 1],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0^', '1.0', 1],
  ['1.0^git1', '1.0', 1],
  ['1.0^git1', '1.01', -1],
  ['1.0^git1~pre', '1.0^git1', -1],
  ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1:1.0-1', '2.0-1', 1],
  ['1.0-1.el9', '1.0-2.el9', -1],
  ['1.0', '1.0-5.el9', 0],
]);

table('maven', compareMaven, [
  ['1.0', '1', 0],
  ['1.0-alpha-1', '1.0', -1],
  ['1.0-rc1', '1.0', -1],
  ['1.0-SNAPSHOT', '1.0', -1],
  ['1.0', '1.0-sp1', -1],
  ['2.14.1', '2.15.0', -1],
  ['2.9.10', '2.10.0', -1],
  ['1.0.1', '1.0-rc1', 1],
  ['2.17.1', '2.17.0', 1],
]);

describe('published orderings', () => {
  // PEP 440, "Summary of permitted suffixes and relative ordering"
  chain('PEP 440', comparePython, ['1.dev0', '1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.0.15', '1.1.dev1']);
  // semver.org §11
  chain('SemVer 2.0.0', compareSemver, ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '2.1.0', '2.1.1']);
});
