/** One comparator per package ecosystem (negative, zero, positive), as OSV's ecosystems name them. */
import { compare as comparePep440 } from '@renovatebot/pep440';
import semver from 'semver';
import { compareApk } from './apk.js';
import { compareDpkg } from './dpkg.js';
import { compareMaven } from './maven.js';
import { compareRpm } from './rpm.js';

export type Ecosystem = 'Debian' | 'Ubuntu' | 'Alpine' | 'Red Hat' | 'Rocky Linux' | 'AlmaLinux' | 'npm' | 'PyPI' | 'Maven' | 'Go';
export type Comparator = (a: string, b: string) => number;

function compareSemver(a: string, b: string): number {
  const x = semver.valid(a, { loose: true }) ?? semver.valid(semver.coerce(a, { includePrerelease: true }));
  const y = semver.valid(b, { loose: true }) ?? semver.valid(semver.coerce(b, { includePrerelease: true }));
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  return semver.compare(x, y, { loose: true });
}

function comparePython(a: string, b: string): number {
  try {
    return Math.sign(comparePep440(a, b));
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

const goVersion = (v: string) => v.replace(/^v/, '').replace(/\+incompatible$/, '');

/** The comparator of an ecosystem (its base name: `Debian:12` → Debian), or undefined when ncr does not know it. */
export function comparatorOf(ecosystem: string): Comparator | undefined {
  const base = ecosystem.split(':')[0]!;
  switch (base) {
    case 'Debian':
    case 'Ubuntu':
      return compareDpkg;
    case 'Alpine':
      return compareApk;
    case 'Red Hat':
    case 'Rocky Linux':
    case 'AlmaLinux':
      return compareRpm;
    case 'npm':
      return compareSemver;
    case 'Go':
      return (a, b) => compareSemver(goVersion(a), goVersion(b));
    case 'PyPI':
      return comparePython;
    case 'Maven':
      return compareMaven;
    default:
      return undefined;
  }
}

export { compareApk, compareDpkg, compareMaven, comparePython, compareRpm, compareSemver };
