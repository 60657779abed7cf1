/** Formatting for people: sizes, dates, digests, media types. */

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

const localFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** e.g. "Nov 29, 2026, 11:04 PM" in the browser's time zone and locale. */
export function formatLocal(iso: string): string {
  return localFmt.format(new Date(iso));
}

/** e.g. "2026-11-29 23:04:12 UTC" */
export function formatUtc(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** "3 min ago", "2 days ago": next to the absolute time where recency matters. */
export function formatRelative(iso: string, now = Date.now()): string {
  const s = (now - new Date(iso).getTime()) / 1000;
  if (s < 45) return 'just now';
  const m = s / 60;
  if (m < 60) return `${Math.max(1, Math.round(m))} min ago`;
  const h = m / 60;
  if (h < 24) return `${Math.floor(h)} h ago`;
  const d = h / 24;
  if (d < 30) return plural(Math.floor(d), 'day') + ' ago';
  if (d < 365) return plural(Math.floor(d / 30), 'month') + ' ago';
  return plural(Math.floor(d / 365), 'year') + ' ago';
}

/** "sha256:0123456789ab" — the algorithm and the first 12 hex digits. */
export function shortDigest(digest: string): string {
  const [alg, hex = ''] = digest.split(':');
  return `${alg}:${hex.slice(0, 12)}`;
}

const KINDS: Record<string, string> = {
  'application/vnd.oci.image.manifest.v1+json': 'OCI image',
  'application/vnd.oci.image.index.v1+json': 'OCI index',
  'application/vnd.docker.distribution.manifest.v2+json': 'Docker image',
  'application/vnd.docker.distribution.manifest.list.v2+json': 'Docker manifest list',
};

/** A short name for a manifest media type (or the artifact type when it has one). */
export function artifactKind(mediaType: string, artifactType?: string | null): string {
  if (artifactType) return artifactType.replace(/^application\//, '');
  return KINDS[mediaType] ?? mediaType.replace(/^application\//, '');
}

export const isIndex = (mediaType: string) => /index|manifest\.list/.test(mediaType);

export function plural(n: number, one: string, many = /[^aeiou]y$/.test(one) ? `${one.slice(0, -1)}ies` : `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
