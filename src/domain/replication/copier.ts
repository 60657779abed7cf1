/**
 * What a replication run copies and how: the artifacts a rule selects (all of them, or the one an event named, as it
 * is now), and the copy of one artifact with its signatures and other referrers to the target.
 */
import { accessoryTagsOf } from '../../oci/accessories.js';
import { isDigest } from '../../oci/digest.js';
import { isNcrError, NcrError } from '../../oci/errors.js';
import { parseManifest } from '../../oci/manifest.js';
import type { RemoteHandle } from '../endpoints/service.js';
import { copyImage, type CopyResult } from '../outbound/copy-image.js';
import type { BlobService } from '../registry/blob.service.js';
import type { ManifestService } from '../registry/manifest.service.js';
import type { RegistryService } from '../registry/registry.service.js';
import { LocalSource } from './local-source.js';
import { selectorOf, type ReplicationRule } from './model.js';

/** signatures of signatures, ... */
const MAX_ACCESSORY_DEPTH = 3;

/** One artifact to replicate: its repository, digest and tags (none: copied by digest). */
export interface Item {
  repository: string;
  image: string;
  digest: string;
  tags: string[];
}

export class ReplicationCopier {
  private readonly local: LocalSource;

  constructor(
    private readonly manifests: ManifestService,
    blobs: BlobService,
    private readonly registries: RegistryService,
  ) {
    this.local = new LocalSource(manifests, blobs);
  }

  async copyItem(item: Item, h: RemoteHandle, targetRepo: string, mountFrom: string | undefined) {
    const started = Date.now();
    const total = { copied: false, bytes: 0, blobs: { uploaded: 0, mounted: 0, present: 0 }, accessories: 0 };
    const add = (c: CopyResult) => {
      total.copied ||= c.copied;
      total.bytes += c.bytes;
      total.blobs.uploaded += c.blobs.uploaded;
      total.blobs.mounted += c.blobs.mounted;
      total.blobs.present += c.blobs.present;
    };
    const opts = mountFrom && mountFrom !== targetRepo ? { mountFrom } : {};
    try {
      for (const ref of item.tags.length ? item.tags : [item.digest]) {
        const c = await copyImage(this.local, item.repository, ref, h.remote, targetRepo, ref, opts);
        if (c.digest !== item.digest) throw new NcrError('CONFLICT', `${item.repository}:${ref} moved to ${c.digest} meanwhile: its own run copies it`);
        add(c);
      }
      total.accessories = await this.copyAccessories(item.repository, item.digest, h, targetRepo, add, 0);
      return {
        outcome: total.copied ? ('copied' as const) : ('skipped' as const),
        message: total.copied ? `copied (${total.bytes} bytes)` : 'the target has the same digest already',
        bytes: total.bytes,
        durationMs: Date.now() - started,
        blobs: total.blobs,
        accessories: total.accessories,
      };
    } catch (err) {
      return { outcome: 'failed' as const, message: err instanceof Error ? err.message : String(err), bytes: total.bytes, durationMs: Date.now() - started, blobs: total.blobs, accessories: total.accessories };
    }
  }

  /** Signatures, attestations, SBOMs and other referrers of `digest` (and of its index children), and theirs. */
  private async copyAccessories(repository: string, digest: string, h: RemoteHandle, targetRepo: string, add: (c: CopyResult) => void, depth: number): Promise<number> {
    if (depth >= MAX_ACCESSORY_DEPTH) return 0;
    let n = 0;
    const subjects = [digest];
    if (depth === 0) {
      const m = await this.local.getManifest(repository, digest);
      const parsed = parseManifest(m.bytes, m.mediaType);
      if (parsed.kind === 'index') subjects.push(...parsed.manifests.map((c) => c.digest));
    }
    for (const subject of subjects) {
      for (const a of await this.manifests.accessories(repository, subject)) {
        // cosign's tag layout travels under its tag; an OCI referrer by digest (the target indexes its subject)
        const tags = a.tags.filter((t) => accessoryTagsOf(subject).includes(t));
        for (const ref of tags.length ? tags : [a.digest]) add(await copyImage(this.local, repository, ref, h.remote, targetRepo, ref));
        n += 1 + (await this.copyAccessories(repository, a.digest, h, targetRepo, add, depth + 1));
      }
    }
    return n;
  }

  /** Everything the rule selects: per image, its tagged artifacts (and untagged ones when the tag filter says so). */
  async allItems(r: ReplicationRule): Promise<Item[]> {
    const sel = selectorOf(r);
    const out: Item[] = [];
    for (let page = 1; ; page++) {
      const images = await this.registries.images(r.registry, { page, perPage: 500 });
      for (const repo of images.items) {
        const image = repo.name.slice(r.registry.length + 1);
        if (!sel.image(image)) continue;
        const graph = await this.registries.artifactGraph(repo);
        const children = new Set(graph.flatMap((a) => a.children));
        for (const a of graph) {
          // index children travel with their index, accessories with their subject
          if (children.has(a.digest) || a.subjectDigest) continue;
          const tags = a.tags.filter((t) => !isAccessoryTag(t));
          if (tags.length === 0 && a.tags.length > 0) continue;
          if (!sel.tags(tags)) continue;
          out.push({ repository: repo.name, image, digest: a.digest, tags: tags.filter((t) => sel.tags([t])) });
        }
      }
      if (page * 500 >= images.total || images.items.length === 0) break;
    }
    return out;
  }

  /**
   * The artifact an event named, as it is now: a tag's current digest; a signature or other accessory stands for its
   * subject (whose accessories are copied with it). Empty when it is gone or the filters do not select it.
   */
  async eventItems(r: ReplicationRule, a: { repository: string; reference: string }): Promise<Item[]> {
    const image = a.repository.slice(r.registry.length + 1);
    let digest: string;
    let mediaType: string;
    let content: Uint8Array;
    try {
      ({ digest, mediaType, content } = await this.manifests.resolve(a.repository, a.reference));
    } catch (err) {
      if (isNcrError(err) && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'NAME_UNKNOWN')) return [];
      throw err;
    }
    const sigOf = isDigest(a.reference) ? undefined : accessorySubject(a.reference);
    const subject = sigOf ?? parseManifest(content, mediaType).subject?.digest;
    if (subject) {
      const found = await this.manifests.resolve(a.repository, subject).catch(() => undefined);
      if (!found) return [];
      digest = found.digest;
    }
    const repo = await this.registries.image(r.registry, image);
    const tags = (await this.registries.tags(repo, { digest, page: 1, perPage: 100 })).items.map((t) => t.name).filter((t) => !isAccessoryTag(t));
    const sel = selectorOf(r);
    if (!sel.tags(tags)) return [];
    const chosen = subject ? tags.filter((t) => sel.tags([t])) : isDigest(a.reference) ? [] : [a.reference];
    return [{ repository: a.repository, image, digest, tags: chosen }];
  }

  async isReferrer(repository: string, digest: string): Promise<boolean> {
    const m = await this.manifests.resolve(repository, digest).catch(() => undefined);
    return m !== undefined && parseManifest(m.content, m.mediaType).subject !== undefined;
  }
}

const ACCESSORY_TAG = /^(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})\.(sig|att|sbom)$/;
const isAccessoryTag = (t: string) => ACCESSORY_TAG.test(t);
function accessorySubject(tag: string): string | undefined {
  const m = ACCESSORY_TAG.exec(tag);
  return m ? `${m[1]}:${m[2]}` : undefined;
}
