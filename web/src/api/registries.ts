/** Registries and the images in them. */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { formatBytes } from '../lib/format';
import { api, query, seg } from './client';
import { useApiMutation } from './mutation';
import type { Image, Page, Registry } from './types';

export interface ListParams {
  page: number;
  perPage: number;
  search?: string;
}

export function useRegistries(p: ListParams) {
  return useQuery({ queryKey: ['registries', p], queryFn: () => api<Page<Registry>>('GET', `/registries${query({ ...p })}`), placeholderData: keepPreviousData });
}

export function useRegistry(name: string) {
  return useQuery({ queryKey: ['registry', name], queryFn: () => api<Registry>('GET', `/registries/${seg(name)}`) });
}

/** A standard registry by name, or an image cache registry pulling from an endpoint. */
export function useCreateRegistry() {
  return useApiMutation<string | { name: string; endpoint: string }, Registry>({
    fn: (v) => api<Registry>('POST', '/registries', typeof v === 'string' ? { name: v } : { name: v.name, kind: 'cache', endpoint: v.endpoint }),
    invalidate: [['registries']],
    success: (r) => (r.kind === 'cache' ? `Image cache registry ${r.name} created. Pull through ${r.address}/IMAGE:TAG.` : `Registry ${r.name} created. Push to ${r.address}.`),
  });
}

export function useDeleteRegistry() {
  return useApiMutation<{ name: string; force: boolean }, void>({
    fn: ({ name, force }) => api<void>('DELETE', `/registries/${seg(name)}${query({ force: force || undefined })}`),
    invalidate: [['registries']],
    success: (_r, v) => `Registry ${v.name} deleted.`,
  });
}

export function useSetQuota() {
  return useApiMutation<{ name: string; quotaBytes: number | null }, Registry>({
    fn: ({ name, quotaBytes }) => api<Registry>('PUT', `/registries/${seg(name)}/quota`, { quotaBytes }),
    invalidate: [['registries'], ['registry']],
    success: (r) => (r.quotaBytes === null ? `Registry ${r.name} has no storage quota now.` : `Registry ${r.name} may now hold up to ${formatBytes(r.quotaBytes)}.`),
  });
}

export function useImages(registry: string, p: ListParams) {
  return useQuery({
    queryKey: ['images', registry, p],
    queryFn: () => api<Page<Image>>('GET', `/registries/${seg(registry)}/images${query({ ...p })}`),
    placeholderData: keepPreviousData,
  });
}

export function useDeleteImage() {
  return useApiMutation<{ registry: string; image: string }, void>({
    fn: ({ registry, image }) => api<void>('DELETE', `/registries/${seg(registry)}/images/${seg(image)}`),
    invalidate: [['images'], ['registries'], ['registry']],
    success: (_r, v) => `Image ${v.registry}/${v.image} deleted with all its artifacts and tags.`,
  });
}
