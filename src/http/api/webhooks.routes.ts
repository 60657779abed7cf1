/**
 * /api/v1/registries/:registry/webhooks: a registry's webhooks (create, change, enable, disable, delete), their
 * delivery history, Test (a sample event sent now) and Redeliver (a failed delivery sent again).
 * /api/v1/webhook-event-types: the event types a webhook can send.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../domain/auth/identity.service.js';
import { can } from '../../domain/auth/permissions.js';
import { WEBHOOK_EVENTS } from '../../domain/webhooks/event-types.js';
import { PAYLOAD_FORMATS, TARGET_TYPES, type DeliveryWithHistory, type WebhookInput } from '../../domain/webhooks/model.js';
import type { WebhookView } from '../../domain/webhooks/service.js';
import { actor, type ApiDeps, authorize, iso, NullableDate, PageFields, Paged, withErrors } from './common.js';

const Literals = (xs: readonly string[]) => Type.Union(xs.map((x) => Type.Literal(x)));
const EventType = Literals(WEBHOOK_EVENTS.map((d) => d.type));

const WebhookOut = Type.Object({
  id: Type.String(),
  registry: Type.String(),
  name: Type.String(),
  description: Type.String(),
  targetType: Literals(TARGET_TYPES),
  address: Type.String({ description: 'shown in full to those who may change webhooks; to viewers only its scheme, host and port' }),
  authHeaderSet: Type.Boolean({ description: 'an auth header is set (its value is never shown again)' }),
  secretSet: Type.Boolean({ description: 'a signing secret is set (its value is never shown again)' }),
  skipCertVerify: Type.Boolean(),
  payloadFormat: Literals(PAYLOAD_FORMATS),
  eventTypes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
  breaker: Type.Object({
    failures: Type.Integer({ description: 'failed attempts in a row' }),
    openUntil: NullableDate,
  }),
});

const AttemptOut = Type.Object({
  n: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  durationMs: Type.Integer(),
  response: Type.Union([Type.String(), Type.Null()], { description: 'the first 1024 bytes of the response body' }),
  error: Type.Union([Type.String(), Type.Null()]),
});

const DeliveryOut = Type.Object({
  id: Type.String({ description: 'sent as X-Ncr-Delivery' }),
  eventId: Type.String(),
  eventType: Type.String(),
  status: Literals(['pending', 'retrying', 'succeeded', 'failed', 'cancelled']),
  attempts: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  nextAttemptAt: NullableDate,
  lastAttemptAt: NullableDate,
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  test: Type.Boolean(),
  redeliveryOf: Type.Union([Type.String(), Type.Null()]),
  contentType: Type.String(),
  payload: Type.String({ description: 'the body exactly as sent' }),
  history: Type.Array(AttemptOut),
});

const settings = {
  name: Type.String({ minLength: 1, maxLength: 63 }),
  description: Type.String({ maxLength: 1024 }),
  targetType: Literals(TARGET_TYPES),
  address: Type.String({ minLength: 1, maxLength: 2048, description: 'http:// or https:// URL (for Slack: the incoming-webhook URL)' }),
  authHeader: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()], { description: 'sent as the Authorization header; null or "" removes it' }),
  secret: Type.Union([Type.String({ maxLength: 256 }), Type.Null()], { description: 'HMAC-SHA256 key: X-Ncr-Signature-256 = sha256=hex(hmac(body)); null or "" removes it' }),
  skipCertVerify: Type.Boolean(),
  payloadFormat: Literals(PAYLOAD_FORMATS),
  eventTypes: Type.Array(EventType, { minItems: 1, maxItems: 32 }),
  enabled: Type.Boolean(),
};
const CreateBody = Type.Object(
  {
    ...settings,
    description: Type.Optional(settings.description),
    targetType: Type.Optional(settings.targetType),
    authHeader: Type.Optional(settings.authHeader),
    secret: Type.Optional(settings.secret),
    skipCertVerify: Type.Optional(settings.skipCertVerify),
    payloadFormat: Type.Optional(settings.payloadFormat),
    enabled: Type.Optional(settings.enabled),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Partial(Type.Object(settings, { additionalProperties: false }), { additionalProperties: false });

const RegistryParams = Type.Object({ registry: Type.String() });
const HookParams = Type.Object({ registry: Type.String(), id: Type.String({ maxLength: 64 }) });
const DeliveryParams = Type.Object({ registry: Type.String(), id: Type.String({ maxLength: 64 }), deliveryId: Type.String({ maxLength: 64 }) });
type P = { registry: string; id: string; deliveryId: string };

/**
 * A receiver's URL often carries its credential (a Slack incoming-webhook URL is one): those who may only view
 * webhooks see its scheme, host and port.
 */
const addressFor = (p: Principal, w: WebhookView) => {
  if (can(p, 'webhook:change', { registry: w.registry })) return w.address;
  const url = new URL(w.address);
  return url.pathname === '/' && !url.search ? url.origin : `${url.origin}/…`;
};

const webhookView = (w: WebhookView, p: Principal) => ({
  ...w,
  address: addressFor(p, w),
  createdAt: iso(w.createdAt)!,
  updatedAt: iso(w.updatedAt)!,
  breaker: { failures: w.breaker.failures, openUntil: w.breaker.openUntil > 0 ? iso(w.breaker.openUntil) : null },
});
const deliveryView = (d: DeliveryWithHistory) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  createdAt: iso(d.createdAt)!,
  nextAttemptAt: iso(d.nextAttemptAt),
  lastAttemptAt: iso(d.lastAttemptAt),
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  test: d.test,
  redeliveryOf: d.redeliveryOf,
  contentType: d.contentType,
  payload: d.payload,
  history: d.history.map((a) => ({ n: a.n, at: iso(a.at)!, statusCode: a.statusCode, durationMs: a.durationMs, response: a.response, error: a.error })),
});

export function webhookRoutes(app: FastifyInstance, deps: ApiDeps) {
  const reg = (req: FastifyRequest) => ({ registry: (req.params as P).registry });
  const tags = ['webhooks'];

  app.get(
    '/webhook-event-types',
    {
      schema: {
        tags,
        summary: 'The event types a webhook can send (Harbor names); `available` ones are produced by ncr today',
        response: withErrors({ 200: Type.Object({ items: Type.Array(Type.Object({ type: Type.String(), cloudEventType: Type.String(), title: Type.String(), available: Type.Boolean() })) }) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'webhook:view');
      return { items: WEBHOOK_EVENTS.map((d) => ({ type: d.type, cloudEventType: d.cloudEventType, title: d.title, available: d.source !== undefined })) };
    },
  );

  app.get(
    '/registries/:registry/webhooks',
    { schema: { tags, summary: "List a registry's webhooks", params: RegistryParams, querystring: Type.Object(PageFields), response: withErrors({ 200: Paged(WebhookOut) }) } },
    async (req) => {
      const p = await authorize(deps, req, 'webhook:view', reg(req));
      const page = await deps.webhooks.list((req.params as P).registry, req.query as { page: number; perPage: number });
      return { ...page, items: page.items.map((w) => webhookView(w, p)) };
    },
  );

  app.post(
    '/registries/:registry/webhooks',
    {
      schema: {
        tags,
        summary: 'Create a webhook',
        description: 'Deliveries: POST with User-Agent ncr/VERSION, X-Ncr-Delivery, X-Ncr-Event, Authorization (the auth header, if set) and X-Ncr-Signature-256 (if a secret is set). See docs/webhooks.md.',
        params: RegistryParams,
        body: CreateBody,
        response: withErrors({ 201: WebhookOut }),
      },
    },
    async (req, reply) => {
      const p = await authorize(deps, req, 'webhook:change', reg(req));
      const w = await deps.webhooks.create((req.params as P).registry, req.body as WebhookInput, actor(req, p));
      return reply.code(201).send(webhookView(w, p));
    },
  );

  app.get('/registries/:registry/webhooks/:id', { schema: { tags, summary: 'Get a webhook', params: HookParams, response: withErrors({ 200: WebhookOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'webhook:view', reg(req));
    const { registry, id } = req.params as P;
    return webhookView(await deps.webhooks.get(registry, id), p);
  });

  app.patch(
    '/registries/:registry/webhooks/:id',
    { schema: { tags, summary: 'Change a webhook (only the fields given)', params: HookParams, body: UpdateBody, response: withErrors({ 200: WebhookOut }) } },
    async (req) => {
      const p = await authorize(deps, req, 'webhook:change', reg(req));
      const { registry, id } = req.params as P;
      return webhookView(await deps.webhooks.update(registry, id, req.body as WebhookInput, actor(req, p)), p);
    },
  );

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(`/registries/:registry/webhooks/:id/${verb}`, { schema: { tags, summary: `${verb[0].toUpperCase()}${verb.slice(1)} a webhook`, params: HookParams, response: withErrors({ 200: WebhookOut }) } }, async (req) => {
      const p = await authorize(deps, req, 'webhook:change', reg(req));
      const { registry, id } = req.params as P;
      return webhookView(await deps.webhooks.setEnabled(registry, id, enabled, actor(req, p)), p);
    });
  }

  app.delete('/registries/:registry/webhooks/:id', { schema: { tags, summary: 'Delete a webhook and its delivery history', params: HookParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const p = await authorize(deps, req, 'webhook:change', reg(req));
    const { registry, id } = req.params as P;
    await deps.webhooks.delete(registry, id, actor(req, p));
    return reply.code(204).send();
  });

  app.get(
    '/registries/:registry/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: "A webhook's deliveries, newest first, each with its attempts (time, status code, duration, response excerpt, error)",
        params: HookParams,
        querystring: Type.Object({ ...PageFields, status: Type.Optional(Literals(['pending', 'retrying', 'succeeded', 'failed', 'cancelled'])) }),
        response: withErrors({ 200: Paged(DeliveryOut) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'webhook:view', reg(req));
      const { registry, id } = req.params as P;
      const page = await deps.webhooks.deliveries(registry, id, req.query as { page: number; perPage: number; status?: DeliveryWithHistory['status'] });
      return { ...page, items: page.items.map(deliveryView) };
    },
  );

  app.get('/registries/:registry/webhooks/:id/deliveries/:deliveryId', { schema: { tags, summary: 'One delivery with its attempts', params: DeliveryParams, response: withErrors({ 200: DeliveryOut }) } }, async (req) => {
    await authorize(deps, req, 'webhook:view', reg(req));
    const { registry, id, deliveryId } = req.params as P;
    return deliveryView(await deps.webhooks.delivery(registry, id, deliveryId));
  });

  app.post(
    '/registries/:registry/webhooks/:id/test',
    { schema: { tags, summary: 'Send a sample event now (once, no retries) and return the delivery with its outcome', params: HookParams, response: withErrors({ 200: DeliveryOut }) } },
    async (req) => {
      const p = await authorize(deps, req, 'webhook:change', reg(req));
      const { registry, id } = req.params as P;
      return deliveryView(await deps.webhooks.test(registry, id, actor(req, p)));
    },
  );

  app.post(
    '/registries/:registry/webhooks/:id/deliveries/:deliveryId/redeliver',
    { schema: { tags, summary: 'Send a failed delivery again (a new delivery, same body, fresh attempts)', params: DeliveryParams, response: withErrors({ 202: DeliveryOut }) } },
    async (req, reply) => {
      const p = await authorize(deps, req, 'webhook:change', reg(req));
      const { registry, id, deliveryId } = req.params as P;
      return reply.code(202).send(deliveryView(await deps.webhooks.redeliver(registry, id, deliveryId, actor(req, p))));
    },
  );
}
