/**
 * Remote registry endpoints: another registry ncr talks to, as a replication target or an image cache's source. The
 * guide's "Create Image Cache" table names the kinds of source and how each is signed in to; `PROVIDERS` says it once,
 * and `validateInput` turns what a person sends into an endpoint or a message that says what to fix.
 */
import { NcrError } from '../../oci/errors.js';

export const PROVIDER_TYPES = ['ncr', 'ecr', 'acr', 'gcr', 'docker-hub', 'docker-registry', 'harbor', 'quay'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export interface ProviderInfo {
  /** as the guide's table names it */
  title: string;
  /** what the URL looks like, for messages and the console */
  urlExample: string;
  /** what the access id is (the guide's "Access ID" column) */
  accessId: string;
  /** what the secret is (the guide's "Access Secret" column) */
  secret: string;
  /** the access id this kind always uses (GCR's `_json_key`, Quay's `json_file`), filled in when not given */
  fixedAccessId?: string;
}

export const PROVIDERS: Record<ProviderType, ProviderInfo> = {
  ncr: { title: 'NHN Container Registry (NCR)', urlExample: 'https://xxxxxxxx-kr1-registry.container.nhncloud.com', accessId: 'User Access Key ID', secret: 'Secret Access Key' },
  ecr: { title: 'Amazon Elastic Container Registry', urlExample: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com', accessId: 'IAM Access Key ID (or AWS with a token from get-login-password)', secret: 'IAM Secret Access Key (or the token)' },
  acr: { title: 'Azure Container Registry', urlExample: 'https://myregistry.azurecr.io', accessId: 'Access Key User Name', secret: 'Access Key Password' },
  gcr: { title: 'Google Cloud Container Registry', urlExample: 'https://asia.gcr.io', accessId: '_json_key', secret: 'the service account key (JSON)', fixedAccessId: '_json_key' },
  'docker-hub': { title: 'Docker Hub', urlExample: 'https://hub.docker.com', accessId: 'Username', secret: 'Password or access token' },
  'docker-registry': { title: 'Docker Registry', urlExample: 'https://registry.example.com', accessId: 'Username', secret: 'Password' },
  harbor: { title: 'Harbor', urlExample: 'https://harbor.example.com', accessId: 'Username', secret: 'Password' },
  quay: { title: 'Quay', urlExample: 'https://quay.io', accessId: 'json_file', secret: '{"account_name": "...", "docker_cli_password": "..."}', fixedAccessId: 'json_file' },
};

export interface Endpoint {
  id: string;
  name: string;
  description: string;
  provider: ProviderType;
  /** scheme://host[:port] as given (Docker Hub's is kept as given; requests go to registry-1.docker.io) */
  url: string;
  /** the user name / access key id; null for anonymous access */
  accessId: string | null;
  /** an extra CA certificate (PEM) trusted for this endpoint besides the system's */
  caPem: string | null;
  createdAt: number;
  createdBy: string | null;
  updatedAt: number;
  /** the last check (Refresh): when, and the error when it failed */
  checkedAt: number | null;
  checkError: string | null;
}

/** What a person sends to create or change an endpoint (every field optional on change). */
export interface EndpointInput {
  name?: string;
  description?: string;
  provider?: string;
  url?: string;
  accessId?: string | null;
  /** the access secret: write-only; null clears it */
  secret?: string | null;
  caPem?: string | null;
}

export interface ValidatedInput {
  name?: string;
  description?: string;
  provider?: ProviderType;
  url?: string;
  accessId?: string | null;
  secret?: string | null;
  caPem?: string | null;
}

const NAME = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;

const invalid = (message: string) => new NcrError('VALIDATION_FAILED', message);

/**
 * Checks what a person sent. `creating`: name, provider and url are required. `allowAnyPort`: the guide allows only
 * ports 80 and 443 for remote registries; a server allowed to reach private networks (tests, a registry next door)
 * may use any.
 */
export function validateInput(input: EndpointInput, creating: boolean, allowAnyPort: boolean): ValidatedInput {
  const out: ValidatedInput = {};
  if (input.name !== undefined || creating) {
    const name = (input.name ?? '').trim();
    if (!NAME.test(name)) throw invalid(`name "${name}" is not valid: use 1-64 lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit`);
    out.name = name;
  }
  if (input.description !== undefined) {
    if (input.description.length > 500) throw invalid('description is too long: at most 500 characters');
    out.description = input.description;
  }
  if (input.provider !== undefined || creating) {
    if (!(PROVIDER_TYPES as readonly string[]).includes(input.provider ?? '')) throw invalid(`provider "${input.provider ?? ''}" is not one of ${PROVIDER_TYPES.join(', ')}`);
    out.provider = input.provider as ProviderType;
  }
  if (input.url !== undefined || creating) out.url = checkUrl(input.url ?? '', allowAnyPort);
  if (input.accessId !== undefined) out.accessId = input.accessId === null || input.accessId.trim() === '' ? null : input.accessId.trim();
  if (input.secret !== undefined) out.secret = input.secret === null || input.secret === '' ? null : input.secret;
  if (input.caPem !== undefined) {
    const pem = input.caPem?.trim() ?? '';
    if (pem && !/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/.test(pem)) throw invalid('caPem must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)');
    out.caPem = pem || null;
  }
  return out;
}

function checkUrl(raw: string, allowAnyPort: boolean): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw invalid(`url "${raw}" is not a URL: give scheme and host, e.g. https://registry.example.com`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw invalid(`url "${raw}" must start with https:// (or http://)`);
  if (u.username || u.password) throw invalid('url must not carry credentials: give them as accessId and secret');
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw invalid(`url "${raw}" must be the registry's address only (scheme://host[:port]), without a path`);
  if (u.port && !allowAnyPort && u.port !== '80' && u.port !== '443') throw invalid(`url "${raw}": a remote registry must be on port 80 or 443`);
  return `${u.protocol}//${u.host}`;
}

/**
 * The provider's credential rules, checked once both the access id and the secret are known (on create, and on a
 * change of either): GCR's secret is a service account key in JSON, Quay's a json_file with account_name and
 * docker_cli_password. Returns the access id to store.
 */
export function checkCredentials(provider: ProviderType, accessId: string | null, secret: string | null): string | null {
  const fixed = PROVIDERS[provider].fixedAccessId;
  if (fixed && secret !== null) {
    if (accessId !== null && accessId !== fixed) throw invalid(`a ${PROVIDERS[provider].title} endpoint's access id is ${fixed}, not "${accessId}"`);
    accessId = fixed;
  }
  if (secret !== null && accessId === null) throw invalid('a secret needs an access id (user name or access key id)');
  if (secret === null) return accessId;
  if (provider === 'gcr') {
    const key = parseJson(secret, 'the secret of a GCR endpoint must be the service account key as JSON');
    if (typeof key.private_key !== 'string' || typeof key.client_email !== 'string') throw invalid('the GCR service account key must have private_key and client_email');
  }
  if (provider === 'quay') {
    const f = parseJson(secret, 'the secret of a Quay endpoint must be a json_file: {"account_name": "...", "docker_cli_password": "..."}');
    if (typeof f.account_name !== 'string' || typeof f.docker_cli_password !== 'string') throw invalid('the Quay json_file must have account_name and docker_cli_password');
  }
  return accessId;
}

function parseJson(s: string, message: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(s);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // the message below says what is wrong
  }
  throw invalid(message);
}

const DOCKER_HUB_HOSTS = new Set(['hub.docker.com', 'docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Where the registry API of an endpoint lives: Docker Hub's web address is not its registry's. */
export function apiUrlOf(e: Pick<Endpoint, 'provider' | 'url'>): string {
  const u = new URL(e.url);
  if (e.provider === 'docker-hub' && DOCKER_HUB_HOSTS.has(u.hostname)) return 'https://registry-1.docker.io';
  return e.url;
}

/**
 * The repository path at the remote for a path asked of ncr: on Docker Hub a one-level name is an official image,
 * which lives under `library/` (the guide: pull `CACHE/library/hello-world`, and `CACHE/hello-world` works too).
 */
export function remoteRepository(e: Pick<Endpoint, 'provider'>, repo: string): string {
  if (e.provider === 'docker-hub' && !repo.includes('/')) return `library/${repo}`;
  return repo;
}
