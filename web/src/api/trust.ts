/** Image trust: a registry's signing keys, its pull policy, and an artifact's signatures. */
import { useQuery } from '@tanstack/react-query';
import { api, seg } from './client';
import { useApiMutation } from './mutation';

export type TrustStatus = 'verified' | 'invalid' | 'unverified' | 'unsigned';

export interface TrustKey {
  id: string;
  name: string;
  scope: string;
  algorithm: string;
  fingerprint: string;
  pem: string;
  createdAt: string;
  createdBy: string | null;
}

export interface Signatures {
  status: TrustStatus;
  keys: string[];
  signatures: { digest: string; kind: string; status: Exclude<TrustStatus, 'unsigned'>; keyName: string | null; reason: string | null; signedAt: string }[];
  attestations: { digest: string; kind: string; at: string }[];
}

export function useTrustKeys(registry: string) {
  return useQuery({ queryKey: ['trust-keys', registry], queryFn: () => api<{ items: TrustKey[] }>('GET', `/registries/${seg(registry)}/trust/keys`) });
}

export function useTrustPolicy(registry: string) {
  return useQuery({ queryKey: ['trust-policy', registry], queryFn: () => api<{ requireVerified: boolean }>('GET', `/registries/${seg(registry)}/trust/policy`) });
}

export function useSignatures(registry: string, image: string, digest: string) {
  return useQuery({ queryKey: ['signatures', registry, image, digest], queryFn: () => api<Signatures>('GET', `/registries/${seg(registry)}/images/${seg(image)}/artifacts/${seg(digest)}/signatures`) });
}

export function useAddTrustKey(registry: string) {
  return useApiMutation<{ name: string; pem: string }, TrustKey>({
    fn: (body) => api<TrustKey>('POST', `/registries/${seg(registry)}/trust/keys`, body),
    invalidate: [['trust-keys', registry], ['artifacts'], ['signatures']],
    success: (k) => `Key ${k.name} added: signatures it verifies now show as Verified.`,
  });
}

export function useDeleteTrustKey(registry: string) {
  return useApiMutation<TrustKey, void>({
    fn: (k) => api<void>('DELETE', `/registries/${seg(registry)}/trust/keys/${seg(k.id)}`),
    invalidate: [['trust-keys', registry], ['artifacts'], ['signatures']],
    success: (_r, k) => `Key ${k.name} deleted.`,
    notifyError: true,
  });
}

export function useSetTrustPolicy(registry: string) {
  return useApiMutation<boolean, { requireVerified: boolean }>({
    fn: (requireVerified) => api<{ requireVerified: boolean }>('PUT', `/registries/${seg(registry)}/trust/policy`, { requireVerified }),
    invalidate: [['trust-policy', registry]],
    success: (r) => (r.requireVerified ? 'Only images with a verified signature can be pulled now.' : 'Every image can be pulled again.'),
    notifyError: true,
  });
}
