import { NcrError } from './errors.js';
import { parseDigest } from './digest.js';
import {
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  MANIFEST_MEDIA_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
  isIndexMediaType,
} from './media-types.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  config?: Descriptor;
  layers: Descriptor[];
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Largest manifest body ncr accepts (4 MiB, the size the distribution spec says registries SHOULD accept). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * Deepest nesting of objects and arrays accepted. Real manifests nest about 4 deep; JSON thousands deep parses, but
 * whoever reads it back and re-serialises it (the API's artifact detail, JSON.stringify recursing) runs out of stack.
 */
export const MAX_MANIFEST_DEPTH = 100;

/** Content-Types clients send when they do not name a manifest type; treated as if no Content-Type was given. */
const GENERIC_CONTENT_TYPES = new Set(['application/json', 'application/octet-stream', 'text/plain']);

const SCHEMA1_HINT =
  'Docker schema 1 manifests are not supported; push with a current client or convert with skopeo copy --format v2s2 (or --format oci)';

type Json = Record<string, unknown>;

function invalid(message: string, cause?: unknown): NcrError {
  return new NcrError('MANIFEST_INVALID', `manifest invalid: ${message}`, cause === undefined ? {} : { cause });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(obj: Json, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`${path}.${key} must be a string`);
  return v;
}

function parseAnnotations(v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw invalid(`${path} must be an object mapping strings to strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalid(`${path}[${JSON.stringify(k)}] must be a string`);
    out[k] = val;
  }
  return out;
}

function parsePlatform(v: unknown, path: string): Platform {
  if (!isObject(v)) throw invalid(`${path} must be an object with "os" and "architecture"`);
  if (typeof v.os !== 'string' || typeof v.architecture !== 'string') {
    throw invalid(`${path} needs string fields "os" and "architecture"`);
  }
  const p: Platform = { os: v.os, architecture: v.architecture };
  const variant = optionalString(v, 'variant', path);
  if (variant !== undefined) p.variant = variant;
  const osVersion = optionalString(v, 'os.version', path);
  if (osVersion !== undefined) p['os.version'] = osVersion;
  return p;
}

function parseDescriptor(v: unknown, path: string): Descriptor {
  if (!isObject(v)) throw invalid(`${path} must be a descriptor object with mediaType, digest and size`);
  if (typeof v.mediaType !== 'string' || v.mediaType === '') {
    throw invalid(`${path}.mediaType must be a non-empty string`);
  }
  if (typeof v.digest !== 'string') throw invalid(`${path}.digest must be a string such as "sha256:<64 hex>"`);
  try {
    parseDigest(v.digest);
  } catch (err) {
    throw invalid(`${path}.digest: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw invalid(`${path}.size must be a non-negative integer byte count`);
  }
  const d: Descriptor = { mediaType: v.mediaType, digest: v.digest, size: v.size };
  const artifactType = optionalString(v, 'artifactType', path);
  if (artifactType !== undefined) d.artifactType = artifactType;
  if (v.platform !== undefined) d.platform = parsePlatform(v.platform, `${path}.platform`);
  const annotations = parseAnnotations(v.annotations, `${path}.annotations`);
  if (annotations !== undefined) d.annotations = annotations;
  if (v.urls !== undefined) {
    if (!Array.isArray(v.urls) || !v.urls.every((u) => typeof u === 'string')) {
      throw invalid(`${path}.urls must be an array of strings`);
    }
    d.urls = [...(v.urls as string[])];
  }
  return d;
}

/** An array of descriptors; `null` is an empty one (Go clients such as go-containerregistry encode an empty slice so). */
function parseDescriptors(v: unknown, path: string): Descriptor[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw invalid(`"${path}" must be an array of descriptors`);
  return v.map((item, i) => parseDescriptor(item, `${path}[${i}]`));
}

/** The media type part of a Content-Type header, lowercased, without parameters; undefined when empty. */
function bareContentType(contentType: string | undefined): string | undefined {
  const bare = contentType?.split(';')[0].trim().toLowerCase();
  return bare ? bare : undefined;
}

function resolveMediaType(body: Json, contentType: string | undefined): string {
  const bodyType = optionalString(body, 'mediaType', 'manifest');
  const headerType = contentType && !GENERIC_CONTENT_TYPES.has(contentType) ? contentType : undefined;
  if (bodyType !== undefined && headerType !== undefined && bodyType !== headerType) {
    throw invalid(
      `the body's mediaType "${bodyType}" differs from the Content-Type "${headerType}"; send the Content-Type that matches the manifest's mediaType`,
    );
  }
  const explicit = bodyType ?? headerType;
  if (explicit !== undefined) {
    if (MANIFEST_MEDIA_TYPES.includes(explicit)) return explicit;
    throw invalid(`media type "${explicit}" is not supported; supported manifest types are ${MANIFEST_MEDIA_TYPES.join(', ')}`);
  }
  if (Array.isArray(body.manifests) || body.manifests === null) return OCI_INDEX;
  if (body.config !== undefined && body.layers !== undefined) return OCI_MANIFEST;
  throw invalid(
    `cannot tell the manifest type: set "mediaType" (or the Content-Type) to one of ${MANIFEST_MEDIA_TYPES.join(', ')}`,
  );
}

/** True when the JSON text's objects and arrays nest deeper than `max` (a scan of the text: no recursion). */
function deeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Parses and validates an image manifest or index (OCI or Docker v2). Throws MANIFEST_TOO_LARGE (413) above
 * MAX_MANIFEST_BYTES and MANIFEST_INVALID for bad JSON, schema 1, unsupported or mismatched media types, bad descriptors.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new NcrError(
      'MANIFEST_TOO_LARGE',
      `manifest is ${bytes.length} bytes; the limit is ${MAX_MANIFEST_BYTES} bytes (4 MiB): move large data into blobs or split the index`,
    );
  }
  const header = bareContentType(contentType);
  if (header === DOCKER_SCHEMA1 || header === DOCKER_SCHEMA1_SIGNED) throw new NcrError('MANIFEST_INVALID', SCHEMA1_HINT);

  let body: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    body = JSON.parse(text);
  } catch (err) {
    throw invalid(`the body is not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`, err);
  }
  if (deeperThan(text, MAX_MANIFEST_DEPTH)) throw invalid(`objects and arrays nest more than ${MAX_MANIFEST_DEPTH} levels deep`);
  if (!isObject(body)) throw invalid('the body must be a JSON object');
  if (body.schemaVersion === 1 || body.mediaType === DOCKER_SCHEMA1 || body.mediaType === DOCKER_SCHEMA1_SIGNED) {
    throw new NcrError('MANIFEST_INVALID', SCHEMA1_HINT);
  }

  const mediaType = resolveMediaType(body, header);
  if (body.schemaVersion !== 2) {
    throw invalid(`"schemaVersion" must be 2, got ${JSON.stringify(body.schemaVersion) ?? 'nothing'}`);
  }
  const kind = isIndexMediaType(mediaType) ? 'index' : 'image';
  const m: ParsedManifest = { mediaType, kind, layers: [], manifests: [] };
  if (kind === 'image') {
    if (body.config === undefined) throw invalid(`an image manifest (${mediaType}) needs a "config" descriptor`);
    m.config = parseDescriptor(body.config, 'config');
    if (body.layers === undefined) throw invalid(`an image manifest (${mediaType}) needs a "layers" array (it may be empty)`);
    m.layers = parseDescriptors(body.layers, 'layers');
  } else {
    if (body.manifests === undefined) throw invalid(`an index (${mediaType}) needs a "manifests" array`);
    m.manifests = parseDescriptors(body.manifests, 'manifests');
  }
  if (body.subject !== undefined) m.subject = parseDescriptor(body.subject, 'subject');
  const artifactType = optionalString(body, 'artifactType', 'manifest');
  if (artifactType !== undefined) m.artifactType = artifactType;
  const annotations = parseAnnotations(body.annotations, 'annotations');
  if (annotations !== undefined) m.annotations = annotations;
  return m;
}

/** For an index: `os/architecture[/variant]` of each child that has a platform, deduplicated, in order; [] otherwise. */
export function platformsOf(m: ParsedManifest): string[] {
  if (m.kind !== 'index') return [];
  const seen = new Set<string>();
  for (const d of m.manifests) {
    if (!d.platform) continue;
    const { os, architecture, variant } = d.platform;
    seen.add(variant ? `${os}/${architecture}/${variant}` : `${os}/${architecture}`);
  }
  return [...seen];
}

/** The blobs a manifest needs stored locally: config then layers, deduplicated by digest, foreign layers (with urls) left out. */
export function referencedBlobs(m: ParsedManifest): Descriptor[] {
  const out: Descriptor[] = [];
  const seen = new Set<string>();
  const add = (d: Descriptor): void => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    out.push(d);
  };
  if (m.config) add(m.config);
  for (const layer of m.layers) {
    if (layer.urls && layer.urls.length > 0) continue;
    add(layer);
  }
  return out;
}
