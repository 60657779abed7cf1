/** A registry's webhooks, their deliveries, Test and Redeliver. */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, query, seg } from './client';
import { useApiMutation } from './mutation';
import type { Page } from './types';

export type TargetType = 'http' | 'slack';
export type PayloadFormat = 'Default' | 'CloudEvents';
export type DeliveryStatus = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'cancelled';

export interface Webhook {
  id: string;
  registry: string;
  name: string;
  description: string;
  targetType: TargetType;
  address: string;
  authHeaderSet: boolean;
  secretSet: boolean;
  skipCertVerify: boolean;
  payloadFormat: PayloadFormat;
  eventTypes: string[];
  enabled: boolean;
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
  breaker: { failures: number; openUntil: string | null };
}

export interface Attempt {
  n: number;
  at: string;
  statusCode: number | null;
  durationMs: number;
  response: string | null;
  error: string | null;
}

export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  test: boolean;
  redeliveryOf: string | null;
  contentType: string;
  payload: string;
  history: Attempt[];
}

export interface EventTypeInfo {
  type: string;
  cloudEventType: string;
  title: string;
  available: boolean;
}

/** What the Create and Edit dialogs send; secrets only when typed (null removes one). */
export interface WebhookSettings {
  name: string;
  description: string;
  targetType: TargetType;
  address: string;
  authHeader?: string | null;
  secret?: string | null;
  skipCertVerify: boolean;
  payloadFormat: PayloadFormat;
  eventTypes: string[];
  enabled?: boolean;
}

const base = (registry: string) => `/registries/${seg(registry)}/webhooks`;

export function useEventTypes() {
  return useQuery({ queryKey: ['webhook-event-types'], queryFn: () => api<{ items: EventTypeInfo[] }>('GET', '/webhook-event-types'), staleTime: Infinity });
}

export function useWebhooks(registry: string) {
  return useQuery({ queryKey: ['webhooks', registry], queryFn: () => api<Page<Webhook>>('GET', `${base(registry)}${query({ perPage: 100 })}`) });
}

export function useDeliveries(registry: string, id: string | null, p: { page: number; perPage: number; status?: DeliveryStatus }) {
  return useQuery({
    queryKey: ['webhook-deliveries', registry, id, p],
    queryFn: () => api<Page<Delivery>>('GET', `${base(registry)}/${seg(id!)}/deliveries${query({ ...p })}`),
    enabled: id !== null,
    placeholderData: keepPreviousData,
    // deliveries change on their own (retries): keep the history fresh while it is open
    refetchInterval: 3000,
  });
}

export function useCreateWebhook(registry: string) {
  return useApiMutation<WebhookSettings, Webhook>({
    fn: (body) => api<Webhook>('POST', base(registry), body),
    invalidate: [['webhooks', registry]],
    success: (w) => `Webhook ${w.name} created.`,
  });
}

export function useUpdateWebhook(registry: string) {
  return useApiMutation<{ id: string; body: Partial<WebhookSettings> }, Webhook>({
    fn: ({ id, body }) => api<Webhook>('PATCH', `${base(registry)}/${seg(id)}`, body),
    invalidate: [['webhooks', registry]],
    success: (w) => `Webhook ${w.name} saved.`,
  });
}

export function useSetWebhookEnabled(registry: string) {
  return useApiMutation<{ id: string; enabled: boolean }, Webhook>({
    fn: ({ id, enabled }) => api<Webhook>('POST', `${base(registry)}/${seg(id)}/${enabled ? 'enable' : 'disable'}`),
    invalidate: [['webhooks', registry]],
    success: (w) => `Webhook ${w.name} ${w.enabled ? 'enabled' : 'disabled'}.`,
    notifyError: true,
  });
}

export function useDeleteWebhook(registry: string) {
  return useApiMutation<{ id: string; name: string }, void>({
    fn: ({ id }) => api<void>('DELETE', `${base(registry)}/${seg(id)}`),
    invalidate: [['webhooks', registry]],
    success: (_r, v) => `Webhook ${v.name} deleted.`,
  });
}

export function useTestWebhook(registry: string) {
  return useApiMutation<{ id: string }, Delivery>({
    fn: ({ id }) => api<Delivery>('POST', `${base(registry)}/${seg(id)}/test`),
    invalidate: [['webhook-deliveries', registry], ['webhooks', registry]],
    notifyError: true,
  });
}

export function useRedeliver(registry: string) {
  return useApiMutation<{ id: string; deliveryId: string }, Delivery>({
    fn: ({ id, deliveryId }) => api<Delivery>('POST', `${base(registry)}/${seg(id)}/deliveries/${seg(deliveryId)}/redeliver`),
    invalidate: [['webhook-deliveries', registry]],
    success: () => 'Sent again: the history shows the new delivery.',
    notifyError: true,
  });
}
