/**
 * How each kind of remote registry is signed in to (the guide's "Create Image Cache" table): most take the access id
 * and secret as Basic credentials for their token service; GCR's user is `_json_key` with the key as password; Quay's
 * json_file carries the account and its CLI password; ECR exchanges an IAM key pair for a 12-hour token (or takes a
 * token from `aws ecr get-login-password` with the user AWS).
 */
import { NcrError } from '../../oci/errors.js';
import type { OciCredentials } from '../outbound/oci-remote.js';
import type { Endpoint } from './model.js';
import type { EcrTokenSource } from './ports.js';

/** ECR's registry host: ACCOUNT.dkr.ecr.REGION.amazonaws.com (or .amazonaws.com.cn). */
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

export function ecrRegistryOf(url: string): { registryId: string; region: string } | undefined {
  const m = ECR_HOST.exec(new URL(url).hostname);
  return m ? { registryId: m[1]!, region: m[2]! } : undefined;
}

/**
 * The credentials to send, resolved now. `secret` is the opened secret (null: anonymous). ECR key pairs go through
 * `ecr` (network); everything else is local.
 */
export async function credentialsOf(
  e: Pick<Endpoint, 'provider' | 'url' | 'accessId' | 'name'>,
  secret: string | null,
  ecr: EcrTokenSource,
): Promise<{ credentials: OciCredentials; expiresAt?: number }> {
  if (secret === null || e.accessId === null) return { credentials: { kind: 'none' } };
  switch (e.provider) {
    case 'gcr':
      return { credentials: { kind: 'basic', username: '_json_key', password: secret } };
    case 'quay': {
      const f = JSON.parse(secret) as { account_name: string; docker_cli_password: string };
      return { credentials: { kind: 'basic', username: f.account_name, password: f.docker_cli_password } };
    }
    case 'ecr': {
      // a token from `aws ecr get-login-password` is used as it is, with the user AWS
      if (e.accessId === 'AWS') return { credentials: { kind: 'basic', username: 'AWS', password: secret } };
      const where = ecrRegistryOf(e.url);
      if (!where) throw new NcrError('VALIDATION_FAILED', `endpoint ${e.name}: ${e.url} is not an ECR address (ACCOUNT.dkr.ecr.REGION.amazonaws.com)`);
      const t = await ecr({ region: where.region, registryId: where.registryId, accessKeyId: e.accessId, secretAccessKey: secret });
      return { credentials: { kind: 'basic', username: t.username, password: t.password }, expiresAt: t.expiresAt };
    }
    default:
      return { credentials: { kind: 'basic', username: e.accessId, password: secret } };
  }
}
