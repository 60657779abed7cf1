/** Media types ncr recognises, and Accept-header matching. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
export const OCI_EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_IMAGE_CONFIG = 'application/vnd.docker.container.image.v1+json';

/** The manifest media types ncr stores and serves. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = Object.freeze([
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
]);

/** True for the OCI image index and the Docker manifest list media types; never throws. */
export function isIndexMediaType(mt: string): boolean {
  return mt === OCI_INDEX || mt === DOCKER_MANIFEST_LIST;
}

/**
 * True when the Accept header value(s) admit `mediaType`: missing/empty Accept, star-slash-star and type/star match
 * anything; an entry with q=0 excludes it (a more specific entry wins over a wildcard). Never throws.
 */
export function acceptsMediaType(accept: string | string[] | undefined, mediaType: string): boolean {
  const values = accept === undefined ? [] : Array.isArray(accept) ? accept : [accept];
  const target = mediaType.trim().toLowerCase();
  const slash = target.indexOf('/');
  const targetType = slash >= 0 ? target.slice(0, slash) : target;

  // Best match by specificity: 2 = exact, 1 = type/*, 0 = */*. Ties keep the highest q.
  let best: { specificity: number; q: number } | undefined;
  let sawAny = false;
  for (const value of values) {
    for (const entry of value.split(',')) {
      const [rangeRaw, ...params] = entry.split(';');
      const range = rangeRaw.trim().toLowerCase();
      if (range === '') continue;
      sawAny = true;
      let q = 1;
      for (const param of params) {
        const eq = param.indexOf('=');
        if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
        const parsed = Number(param.slice(eq + 1).trim());
        if (Number.isFinite(parsed)) q = parsed;
      }
      let specificity: number;
      if (range === '*/*' || range === '*') specificity = 0;
      else if (range === `${targetType}/*`) specificity = 1;
      else if (range === target) specificity = 2;
      else continue;
      if (!best || specificity > best.specificity || (specificity === best.specificity && q > best.q)) {
        best = { specificity, q };
      }
    }
  }
  if (!sawAny) return true;
  return best !== undefined && best.q > 0;
}
