/**
 * Accessory tags: cosign (and tools following it) store a signature, attestation or SBOM of `sha256:<hex>` under the
 * tag `sha256-<hex>.sig` / `.att` / `.sbom` in the same repository, without a `subject` field. Such an artifact belongs
 * to that subject exactly as an OCI 1.1 referrer does: it is kept, protected and deleted with it.
 */
const ACCESSORY_TAG = /^(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})\.(sig|att|sbom)$/;

export type AccessoryKind = 'sig' | 'att' | 'sbom';

/** The subject digest and kind an accessory tag names, or undefined for any other tag. */
export function accessoryTagSubject(tag: string): { subject: string; kind: AccessoryKind } | undefined {
  const m = ACCESSORY_TAG.exec(tag);
  return m ? { subject: `${m[1]}:${m[2]}`, kind: m[3] as AccessoryKind } : undefined;
}

/** The accessory tags a subject's accessories may carry. */
export function accessoryTagsOf(subject: string): string[] {
  const [alg, hex] = subject.split(':');
  return (['sig', 'att', 'sbom'] as const).map((k) => `${alg}-${hex}.${k}`);
}
