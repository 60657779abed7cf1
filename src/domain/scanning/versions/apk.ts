/**
 * Alpine apk version comparison (apk-tools' version.c): `digits(.digits)*[letter](_suffix[digits])*[-r digits]`.
 * Pre-release suffixes (_alpha _beta _pre _rc) sort before the plain version, post-release ones (_cvs _svn _git _hg _p)
 * after it; where two versions part ways on different token kinds the one that goes on with a number is greater.
 */
const enum T {
  Digit = 0,
  Letter = 1,
  Suffix = 2,
  SuffixNo = 3,
  Revision = 4,
  End = 5,
}
const PRE = ['alpha', 'beta', 'pre', 'rc'];
const POST = ['cvs', 'svn', 'git', 'hg', 'p'];

interface Tok {
  t: T;
  v: number;
}

function tokens(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const num = () => {
    const m = /^\d+/.exec(s.slice(i));
    const txt = m ? m[0] : '';
    i += txt.length;
    return txt;
  };
  const first = num();
  out.push({ t: T.Digit, v: Number(first || 0) });
  while (i < s.length) {
    const c = s[i]!;
    if (c === '.') {
      i++;
      const d = num();
      out.push({ t: T.Digit, v: Number(d || 0) });
    } else if (/[a-z]/.test(c) && out[out.length - 1]!.t === T.Digit) {
      out.push({ t: T.Letter, v: c.charCodeAt(0) });
      i++;
    } else if (c === '_') {
      const m = /^_([a-z]+)/.exec(s.slice(i));
      const name = m ? m[1]! : '';
      i += 1 + name.length;
      const pre = PRE.indexOf(name);
      const post = POST.indexOf(name);
      out.push({ t: T.Suffix, v: pre >= 0 ? pre - PRE.length : post >= 0 ? post + 1 : 0 });
      const d = num();
      if (d) out.push({ t: T.SuffixNo, v: Number(d) });
    } else if (s.startsWith('-r', i)) {
      i += 2;
      out.push({ t: T.Revision, v: Number(num() || 0) });
    } else {
      i++; // not part of the grammar: ignored
    }
  }
  out.push({ t: T.End, v: 0 });
  return out;
}

/** Negative, zero or positive as `a` sorts before, equal to or after `b`. */
export function compareApk(a: string, b: string): number {
  const x = tokens(a.trim());
  const y = tokens(b.trim());
  for (let k = 0; ; k++) {
    const p = x[k]!;
    const q = y[k]!;
    if (p.t === q.t) {
      if (p.v !== q.v) return p.v < q.v ? -1 : 1;
      if (p.t === T.End) return 0;
      continue;
    }
    if (p.t === T.Suffix && p.v < 0) return -1;
    if (q.t === T.Suffix && q.v < 0) return 1;
    return p.t > q.t ? -1 : 1;
  }
}
