/**
 * ECR's token exchange with the AWS SDK: GetAuthorizationToken, SigV4-signed with the endpoint's IAM key pair, in the
 * registry's region. The token is base64 "AWS:<password>", valid for 12 hours.
 */
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { NcrError } from '../oci/errors.js';
import type { EcrTokenSource } from '../domain/endpoints/ports.js';

/** `apiUrl` replaces https://api.ecr.REGION.amazonaws.com (tests, VPC endpoints). */
export function ecrTokenSource(opts: { apiUrl?: string; timeoutMs?: number } = {}): EcrTokenSource {
  return async ({ region, accessKeyId, secretAccessKey, registryId }) => {
    const client = new ECRClient({
      region,
      credentials: { accessKeyId, secretAccessKey },
      ...(opts.apiUrl ? { endpoint: opts.apiUrl } : {}),
      maxAttempts: 3,
      requestHandler: { requestTimeout: opts.timeoutMs ?? 10_000 },
    });
    try {
      const out = await client.send(new GetAuthorizationTokenCommand(registryId ? { registryIds: [registryId] } : {}));
      const data = out.authorizationData?.[0];
      const decoded = data?.authorizationToken ? Buffer.from(data.authorizationToken, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new NcrError('UNAVAILABLE', `ECR (${region}) answered GetAuthorizationToken without a token`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), expiresAt: data?.expiresAt?.getTime() ?? Date.now() + 12 * 3600_000 };
    } catch (err) {
      if (err instanceof NcrError) throw err;
      const name = (err as { name?: string }).name ?? 'Error';
      // the SDK's messages name the request, never the secret key
      const why = err instanceof Error ? err.message : String(err);
      if (/UnrecognizedClient|InvalidSignature|AccessDenied|SignatureDoesNotMatch/i.test(name)) throw new NcrError('UNAUTHORIZED', `ECR (${region}) refused the IAM key ${accessKeyId}: ${why}`, { cause: err });
      throw new NcrError('UNAVAILABLE', `ECR (${region}) GetAuthorizationToken failed: ${why}`, { cause: err });
    } finally {
      client.destroy();
    }
  };
}
