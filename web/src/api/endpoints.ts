/** Remote registry endpoints: the sources of image cache registries (the console's "Image Cache" tab). */
import { useQuery } from '@tanstack/react-query';
import { api, seg } from './client';
import { useApiMutation } from './mutation';
import type { Endpoint, EndpointInput, EndpointProvider } from './types';

export function useEndpoints() {
  return useQuery({ queryKey: ['endpoints'], queryFn: () => api<{ items: Endpoint[] }>('GET', '/endpoints') });
}

export function useEndpointProviders() {
  return useQuery({ queryKey: ['endpoint-providers'], queryFn: () => api<{ items: EndpointProvider[] }>('GET', '/endpoint-providers'), staleTime: Infinity });
}

export function useCreateEndpoint() {
  return useApiMutation<EndpointInput, Endpoint>({
    fn: (input) => api<Endpoint>('POST', '/endpoints', input),
    invalidate: [['endpoints']],
    success: (e) => `Image cache ${e.name} created.`,
  });
}

export function useUpdateEndpoint() {
  return useApiMutation<{ name: string; input: EndpointInput }, Endpoint>({
    fn: ({ name, input }) => api<Endpoint>('PATCH', `/endpoints/${seg(name)}`, input),
    invalidate: [['endpoints'], ['registries']],
    success: (e) => `Image cache ${e.name} modified.`,
  });
}

export function useCheckEndpoint() {
  return useApiMutation<string, Endpoint>({
    fn: (name) => api<Endpoint>('POST', `/endpoints/${seg(name)}/check`),
    invalidate: [['endpoints']],
    success: (e) => (e.status === 'reachable' ? `${e.name} is reachable.` : `${e.name} is not reachable: ${e.checkError ?? 'unknown error'}`),
    notifyError: true,
  });
}

export function useDeleteEndpoint() {
  return useApiMutation<string, void>({
    fn: (name) => api<void>('DELETE', `/endpoints/${seg(name)}`),
    invalidate: [['endpoints']],
    success: (_r, name) => `Image cache ${name} deleted.`,
  });
}
