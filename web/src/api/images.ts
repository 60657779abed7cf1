/** The artifacts of an image, one artifact's detail, and its tags. */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, query, seg } from './client';
import { useApiMutation } from './mutation';
import type { Artifact, ArtifactDetail, Page, Tag } from './types';

export interface ImageRef {
  registry: string;
  image: string;
}

const base = (r: ImageRef) => `/registries/${seg(r.registry)}/images/${seg(r.image)}`;

export function useArtifacts(r: ImageRef, p: { page: number; perPage: number }) {
  return useQuery({ queryKey: ['artifacts', r.registry, r.image, p], queryFn: () => api<Page<Artifact>>('GET', `${base(r)}/artifacts${query(p)}`), placeholderData: keepPreviousData });
}

export function useArtifact(r: ImageRef, digest: string | undefined) {
  return useQuery({
    queryKey: ['artifact', r.registry, r.image, digest],
    queryFn: () => api<ArtifactDetail>('GET', `${base(r)}/artifacts/${seg(digest!)}`),
    enabled: Boolean(digest),
  });
}

export function useTags(r: ImageRef, p: { digest?: string; search?: string; page: number; perPage: number }) {
  return useQuery({ queryKey: ['tags', r.registry, r.image, p], queryFn: () => api<Page<Tag>>('GET', `${base(r)}/tags${query(p)}`), placeholderData: keepPreviousData });
}

/** What changes when tags or artifacts change. */
const touched = (r: ImageRef) => [['tags', r.registry, r.image], ['artifacts', r.registry, r.image], ['artifact', r.registry, r.image], ['images', r.registry]];

export function useCreateTag(r: ImageRef) {
  return useApiMutation<{ name: string; digest: string }, Tag>({
    fn: (body) => api<Tag>('POST', `${base(r)}/tags`, body),
    invalidate: touched(r),
    success: (t) => `Tag ${t.name} now points at ${t.digest.slice(0, 19)}…`,
  });
}

export function useDeleteTag(r: ImageRef) {
  return useApiMutation<string, void>({
    fn: (tag) => api<void>('DELETE', `${base(r)}/tags/${seg(tag)}`),
    invalidate: touched(r),
    success: (_r, tag) => `Tag ${tag} deleted. The artifact stays.`,
  });
}

export function useDeleteArtifact(r: ImageRef) {
  return useApiMutation<string, void>({
    fn: (digest) => api<void>('DELETE', `${base(r)}/artifacts/${seg(digest)}`),
    invalidate: [...touched(r), ['registries'], ['registry', r.registry]],
    success: (_r, digest) => `Artifact ${digest.slice(0, 19)}… deleted with its tags.`,
  });
}
