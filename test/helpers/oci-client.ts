/** A small raw-HTTP OCI client for the integration tests: speaks the token flow and caches a token per scope. */
import { createHash } from 'node:crypto';

export const sha256 = (b: Uint8Array | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');
export const sha512 = (b: Uint8Array | string) => 'sha512:' + createHash('sha512').update(b).digest('hex');

export interface Creds {
  accessKey: string;
  secretKey: string;
}

export class OciClient {
  private tokens = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly creds?: Creds,
  ) {}

  async token(scope: string): Promise<string> {
    const hit = this.tokens.get(scope);
    if (hit) return hit;
    if (!this.creds) throw new Error('no credentials');
    const q = scope.split(' ').filter(Boolean).map((x) => `&scope=${encodeURIComponent(x)}`).join('');
    const res = await fetch(`${this.base}/service/token?service=test${q}`, {
      headers: { authorization: basic(this.creds) },
    });
    if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { token: string };
    this.tokens.set(scope, body.token);
    return body.token;
  }

  /** Sends a request; on a 401 challenge, fetches a token for the challenged scope and retries once. */
  async req(method: string, path: string, init: { headers?: Record<string, string>; body?: Uint8Array | string; scopes?: string[] } = {}): Promise<Response> {
    if (init.scopes) this.lastAuth = 'Bearer ' + (await this.token(init.scopes.join(' ')));
    const send = (auth?: string) =>
      fetch(this.base + path, {
        method,
        headers: { ...(init.headers ?? {}), ...(auth ? { authorization: auth } : {}) },
        body: init.body as RequestInit['body'],
        redirect: 'manual',
      });
    let res = await send(this.lastAuth);
    if (res.status === 401 && this.creds) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      const scope = /scope="([^"]+)"/.exec(challenge)?.[1] ?? '';
      await res.arrayBuffer();
      this.lastAuth = 'Bearer ' + (await this.token(scope));
      res = await send(this.lastAuth);
    }
    return res;
  }
  private lastAuth: string | undefined;

  async pushBlob(repo: string, data: Uint8Array | string): Promise<string> {
    const digest = sha256(data);
    const res = await this.req('POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: data, headers: { 'content-type': 'application/octet-stream' } });
    if (res.status !== 201) throw new Error(`push blob: ${res.status} ${await res.text()}`);
    return digest;
  }

  async pushManifest(repo: string, ref: string, manifest: unknown, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<Response> {
    const body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    return this.req('PUT', `/v2/${repo}/manifests/${ref}`, { body, headers: { 'content-type': mediaType } });
  }

  /** Pushes a config and one layer and a manifest for them; returns the manifest and its digest. */
  async pushImage(repo: string, tag: string, seed = 'x', extra: Record<string, unknown> = {}) {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed });
    const layer = `layer-${seed}-${'z'.repeat(100)}`;
    const configDigest = await this.pushBlob(repo, config);
    const layerDigest = await this.pushBlob(repo, layer);
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(config) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: Buffer.byteLength(layer) }],
      ...extra,
    };
    const body = JSON.stringify(manifest);
    const res = await this.pushManifest(repo, tag, body);
    if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
    return { manifest, body, digest: sha256(body), configDigest, layerDigest };
  }
}

export function basic(c: Creds): string {
  return 'Basic ' + Buffer.from(`${c.accessKey}:${c.secretKey}`).toString('base64');
}

export async function errorCode(res: Response): Promise<string | undefined> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { errors: { code: string }[] }).errors[0].code;
  } catch {
    return undefined;
  }
}
