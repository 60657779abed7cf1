/**
 * The bodies a webhook sends: Harbor's Default format (the same JSON Harbor sends, so receivers written for Harbor work
 * unchanged), CloudEvents 1.0 structured JSON (Harbor's event types), and a Slack Block Kit message a person reads at
 * a glance with the Default payload attached.
 */
import type { DomainEvent } from '../events.js';
import type { PayloadContext, WebhookEventDef } from './event-types.js';
import type { Webhook } from './model.js';

/** Harbor's Default payload; key order as Harbor writes it. */
export interface DefaultPayload {
  type: string;
  occur_at: number;
  operator: string;
  event_data: Record<string, unknown>;
}

export interface Built {
  body: string;
  contentType: string;
}

export function operatorOf(e: DomainEvent): string {
  return e.actor.username ?? 'system';
}

export function defaultPayload(def: WebhookEventDef, e: DomainEvent, ctx: PayloadContext): DefaultPayload {
  return { type: def.type, occur_at: Math.floor(e.at / 1000), operator: operatorOf(e), event_data: def.source!.data(e, ctx) };
}

/**
 * CloudEvents 1.0, structured content mode: the context attributes and `data` in one JSON object. `id` is the event's
 * (unique per source: each webhook is its own source), `operator` an extension attribute as Harbor sends it.
 */
export function cloudEvent(def: WebhookEventDef, p: DefaultPayload, o: { id: string; registry: string; webhookId: string; at: number }) {
  return {
    specversion: '1.0',
    id: o.id,
    source: `/registries/${o.registry}/webhooks/${o.webhookId}`,
    type: def.cloudEventType,
    datacontenttype: 'application/json',
    time: new Date(o.at).toISOString(),
    operator: p.operator,
    data: p.event_data,
  };
}

/** Block Kit: a header naming the event, who/what/when as fields, and the Default payload attached as a code block. */
export function slackMessage(def: WebhookEventDef, p: DefaultPayload, at: number) {
  const data = p.event_data as { resources?: { digest?: string; tag?: string; resource_url?: string }[]; repository?: { repo_full_name?: string }; retention?: Record<string, unknown> };
  const r = data.resources?.[0];
  const repo = data.repository?.repo_full_name;
  const image = repo ? `${repo}${r?.tag ? `:${r.tag}` : ''}` : undefined;
  const when = new Date(at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const fields: { type: 'mrkdwn'; text: string }[] = [{ type: 'mrkdwn', text: `*Event*\n${def.title} (${def.type})` }];
  if (image) fields.push({ type: 'mrkdwn', text: `*Image*\n\`${image}\`` });
  if (r?.digest) fields.push({ type: 'mrkdwn', text: `*Digest*\n\`${r.digest}\`` });
  if (data.retention) fields.push({ type: 'mrkdwn', text: `*Result*\n${String(data.retention.result)}: ${String(data.retention.total)} examined, ${String(data.retention.retained)} kept` });
  fields.push({ type: 'mrkdwn', text: `*By*\n${p.operator}` }, { type: 'mrkdwn', text: `*When*\n${when}` });
  let json = JSON.stringify(p, null, 2);
  // a section's text holds at most 3000 characters
  if (json.length > 2900) json = json.slice(0, 2900) + '\n…';
  const text = `${def.title}${image ? `: ${image}` : ''} by ${p.operator}`;
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `${def.title}${image ? `: ${image}` : ''}`.slice(0, 150), emoji: false } },
      { type: 'section', fields: fields.slice(0, 10) },
      ...(r?.resource_url ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `\`${r.resource_url}\`` }] }] : []),
      { type: 'section', text: { type: 'mrkdwn', text: '```' + json + '```' } },
    ],
  };
}

/** The body one webhook sends for one event. */
export function buildBody(w: Pick<Webhook, 'id' | 'registry' | 'targetType' | 'payloadFormat'>, def: WebhookEventDef, e: DomainEvent, eventId: string, ctx: PayloadContext): Built {
  const p = defaultPayload(def, e, ctx);
  if (w.targetType === 'slack') return { body: JSON.stringify(slackMessage(def, p, e.at)), contentType: 'application/json' };
  if (w.payloadFormat === 'CloudEvents') return { body: JSON.stringify(cloudEvent(def, p, { id: eventId, registry: w.registry, webhookId: w.id, at: e.at })), contentType: 'application/cloudevents+json' };
  return { body: JSON.stringify(p), contentType: 'application/json' };
}
