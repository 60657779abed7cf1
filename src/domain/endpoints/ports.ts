/**
 * What the endpoints capability needs from storage and the rest of the app. Implemented by
 * storage/meta/kysely/endpoints.repo.ts and src/outbound (the OCI client, ECR's token exchange); wired in app.ts.
 */
import type { OciCredentials, OciRemote } from '../outbound/oci-remote.js';
import type { Endpoint } from './model.js';

/** An endpoint as stored: its secret sealed (SecretBox), never in the clear. */
export type StoredEndpoint = Endpoint & { secretSealed: string | null };

export interface EndpointStore {
  /** Throws CONFLICT when the name is taken. */
  create(e: StoredEndpoint): Promise<void>;
  get(id: string): Promise<StoredEndpoint | undefined>;
  getByName(name: string): Promise<StoredEndpoint | undefined>;
  /** By name. */
  list(): Promise<StoredEndpoint[]>;
  /** Replaces the settings; throws CONFLICT when the new name is taken. */
  update(e: StoredEndpoint): Promise<void>;
  /** Records a check's outcome (no other field changes). */
  recordCheck(id: string, at: number, error: string | null): Promise<void>;
  /** False when it did not exist. Throws CONFLICT when something still refers to it (a foreign key). */
  delete(id: string): Promise<boolean>;
}

export interface EndpointStores {
  endpoints: EndpointStore;
}

/** Seals secrets at rest (AES-256-GCM in app.ts). */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

/** Builds the OCI client for an endpoint (src/outbound/oci-client.ts, through the outbound address guard). */
export type RemoteFactory = (opts: { url: string; credentials: OciCredentials; caPem?: string }) => OciRemote;

/**
 * ECR's token exchange: a SigV4-signed GetAuthorizationToken for the registry's region with an IAM key pair,
 * answering the Basic credentials (user AWS) valid for 12 hours.
 */
export type EcrTokenSource = (req: { region: string; accessKeyId: string; secretAccessKey: string; registryId?: string }) => Promise<{ username: string; password: string; expiresAt: number }>;

/** Who uses an endpoint (a replication rule, an image cache registry): named in the refusal to delete it. */
export type EndpointUsage = (endpointId: string) => Promise<string[]>;
