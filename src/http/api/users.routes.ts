/** /api/v1/users (user:manage), access keys and passwords (key:manage-own, or user:manage for others'), /api/v1/me, audit log. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessKeyView, Principal } from '../../domain/auth/identity.service.js';
import type { User } from '../../domain/auth/ports.js';
import { require } from '../../domain/auth/permissions.js';
import { actor, type ApiDeps, iso, NullableDate, PageQuery, pageOf, Paged, authorize, requireUser, withErrors } from './common.js';

const UserOut = Type.Object({ username: Type.String(), role: Type.String(), createdAt: Type.String({ format: 'date-time' }), hasPassword: Type.Boolean() });
const KeyOut = Type.Object({
  id: Type.String(),
  accessKey: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: NullableDate,
  rotationDue: Type.Boolean({ description: 'true when the key is older than 90 days: regenerate it' }),
});
const NewKeyOut = Type.Composite([KeyOut, Type.Object({ secretKey: Type.String({ description: 'shown only in this response; store it now' }) })]);
const UserParams = Type.Object({ username: Type.String() });
const KeyParams = Type.Object({ username: Type.String(), key: Type.String() });

const userView = (u: User) => ({ username: u.username, role: u.role, createdAt: iso(u.createdAt)!, hasPassword: u.hasPassword });
const keyView = (k: AccessKeyView) => ({ id: k.id, accessKey: k.accessKey, createdAt: iso(k.createdAt)!, lastUsedAt: iso(k.lastUsedAt), rotationDue: k.rotationDue });

export function userRoutes(app: FastifyInstance, deps: ApiDeps) {
  /** Everyone acts on themselves ('me' names the caller); on someone else only with user:manage. */
  async function subject(req: FastifyRequest): Promise<{ p: Principal; username: string }> {
    const p = await requireUser(deps, req);
    const raw = (req.params as { username: string }).username;
    const username = raw === 'me' ? p.username : raw;
    require(p, 'key:manage-own', { user: username });
    return { p, username };
  }

  app.get('/me', { schema: { tags: ['users'], summary: 'The logged-in user', response: withErrors({ 200: UserOut }) } }, async (req) => {
    const p = await requireUser(deps, req);
    return userView(await deps.identity.getUser(p.username));
  });

  app.get('/users', { schema: { tags: ['users'], summary: 'List users (admins)', querystring: PageQuery, response: withErrors({ 200: Paged(UserOut) }) } }, async (req) => {
    await authorize(deps, req, 'user:manage');
    const page = await deps.identity.listUsers(pageOf(req.query));
    return { ...page, items: page.items.map(userView) };
  });

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Add a user (admins)',
        body: Type.Object({ username: Type.String(), role: Type.Union([Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')]), password: Type.Optional(Type.String()) }, { additionalProperties: false }),
        response: withErrors({ 201: UserOut }),
      },
    },
    async (req, reply) => {
      const p = await authorize(deps, req, 'user:manage');
      const u = await deps.identity.createUser(req.body as { username: string; role: string; password?: string }, actor(req, p));
      return reply.code(201).send(userView(u));
    },
  );

  app.get('/users/:username', { schema: { tags: ['users'], summary: 'Get a user', params: UserParams, response: withErrors({ 200: UserOut }) } }, async (req) => {
    const { username } = await subject(req);
    return userView(await deps.identity.getUser(username));
  });

  app.patch(
    '/users/:username',
    {
      schema: {
        tags: ['users'],
        summary: 'Change a role (admins) or a password (admins, or the user for their own)',
        params: UserParams,
        body: Type.Object({ role: Type.Optional(Type.String()), password: Type.Optional(Type.String()) }, { additionalProperties: false }),
        response: withErrors({ 200: UserOut }),
      },
    },
    async (req) => {
      const { p, username } = await subject(req);
      const body = req.body as { role?: string; password?: string };
      if (body.role !== undefined) {
        require(p, 'user:manage', { user: username });
        await deps.identity.setRole(username, body.role, actor(req, p));
      }
      if (body.password !== undefined) await deps.identity.setPassword(username, body.password, actor(req, p));
      return userView(await deps.identity.getUser(username));
    },
  );

  app.delete('/users/:username', { schema: { tags: ['users'], summary: 'Remove a user (admins)', params: UserParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const { username } = req.params as { username: string };
    const p = await authorize(deps, req, 'user:manage', { user: username });
    await deps.identity.deleteUser(username, actor(req, p));
    return reply.code(204).send();
  });

  app.get('/users/:username/access-keys', { schema: { tags: ['access keys'], summary: "List a user's access keys ('me' for your own)", params: UserParams, response: withErrors({ 200: Type.Object({ items: Type.Array(KeyOut) }) }) } }, async (req) => {
    const { username } = await subject(req);
    return { items: (await deps.identity.listKeys(username)).map(keyView) };
  });

  app.post('/users/:username/access-keys', { schema: { tags: ['access keys'], summary: 'Create an access key (at most 5); the secret is shown once', params: UserParams, response: withErrors({ 201: NewKeyOut }) } }, async (req, reply) => {
    const { p, username } = await subject(req);
    const k = await deps.identity.createKey(username, actor(req, p));
    return reply.code(201).header('cache-control', 'no-store').send({ ...keyView(k), secretKey: k.secretKey });
  });

  app.post('/users/:username/access-keys/:key/regenerate', { schema: { tags: ['access keys'], summary: 'Regenerate the secret of a key; the old secret stops working', params: KeyParams, response: withErrors({ 200: NewKeyOut }) } }, async (req, reply) => {
    const { p, username } = await subject(req);
    const k = await deps.identity.regenerateKey(username, (req.params as { key: string }).key, actor(req, p));
    return reply.header('cache-control', 'no-store').send({ ...keyView(k), secretKey: k.secretKey });
  });

  app.delete('/users/:username/access-keys/:key', { schema: { tags: ['access keys'], summary: 'Delete an access key', params: KeyParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const { p, username } = await subject(req);
    await deps.identity.deleteKey(username, (req.params as { key: string }).key, actor(req, p));
    return reply.code(204).send();
  });

  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit log of every write (admins)',
        querystring: Type.Composite([PageQuery, Type.Object({ actor: Type.Optional(Type.String()), action: Type.Optional(Type.String()) })]),
      },
    },
    async (req) => {
      await authorize(deps, req, 'audit:view');
      const q = req.query as { actor?: string; action?: string };
      const page = await deps.audit.list({ ...pageOf(req.query), actor: q.actor, action: q.action });
      return { ...page, items: page.items.map((e) => ({ ...e, at: iso(e.at), detail: e.detail ? JSON.parse(e.detail) : null })) };
    },
  );
}
