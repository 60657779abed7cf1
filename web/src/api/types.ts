/** Shapes of the /api/v1 responses the console reads (see /api/v1/openapi.json). Dates are ISO strings in UTC. */
export type Role = 'admin' | 'member' | 'viewer';

export interface Page<T> {
  items: T[];
  page: number;
  perPage: number;
  total: number;
}

export interface User {
  username: string;
  role: Role;
  createdAt: string;
  hasPassword: boolean;
}

export interface Session {
  user: User;
  csrfToken: string;
  /** host[:port] to `docker login` to */
  registryHost: string;
}

export interface Registry {
  name: string;
  address: string;
  /** the same on the private endpoint (the guide's Private URI); null when there is none */
  privateAddress: string | null;
  imageCount: number;
  storageBytes: number;
  /** the most storageBytes may reach; null for no limit */
  quotaBytes: number | null;
  createdAt: string;
  createdBy: string | null;
  /** standard, or cache: an image cache (pull-through) registry */
  kind: 'standard' | 'cache';
  /** an image cache registry's source */
  endpoint: { id: string; name: string } | null;
}

/** A remote registry: an image cache's source (the guide's "image cache"), or a replication target. */
export interface Endpoint {
  id: string;
  name: string;
  description: string;
  provider: string;
  url: string;
  accessId: string | null;
  secretSet: boolean;
  caPem: string | null;
  status: 'unchecked' | 'reachable' | 'unreachable';
  checkedAt: string | null;
  checkError: string | null;
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
}

export interface EndpointProvider {
  provider: string;
  title: string;
  urlExample: string;
  accessId: string;
  secret: string;
}

export interface EndpointInput {
  name?: string;
  description?: string;
  provider?: string;
  url?: string;
  accessId?: string | null;
  secret?: string | null;
}

export interface Image {
  name: string;
  repository: string;
  artifactCount: number;
  tagCount: number;
  createdAt: string;
  updatedAt: string;
  pulledAt: string | null;
}

export interface Artifact {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  manifestSize: number;
  platforms: string[];
  tags: string[];
  subject: string | null;
  pushedAt: string;
  pushedBy: string | null;
  pulledAt: string | null;
  /** cosign signatures and whether a registered key verifies them */
  authentication?: { status: 'verified' | 'invalid' | 'unverified' | 'unsigned'; keys: string[]; signatures: number };
}

export interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
}

export interface ImageConfigSummary {
  architecture: string | null;
  os: string | null;
  created: string | null;
  author: string | null;
  cmd: string[] | null;
  entrypoint: string[] | null;
  env: string[] | null;
  labels: Record<string, string> | null;
  raw: unknown;
}

export interface ArtifactDetail extends Artifact {
  manifest: unknown;
  config: ImageConfigSummary | null;
  layers: Descriptor[];
  manifests: (Descriptor & { platform: { os?: string; architecture?: string; variant?: string } | null })[];
  pullCommands: { byDigest: string; byTag: string[] };
}

export interface Tag {
  name: string;
  digest: string;
  pushedAt: string;
  pulledAt: string | null;
}

export interface AccessKey {
  id: string;
  accessKey: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** older than 90 days: regenerate it */
  rotationDue: boolean;
}

export interface NewAccessKey extends AccessKey {
  /** shown only in this response */
  secretKey: string;
}
