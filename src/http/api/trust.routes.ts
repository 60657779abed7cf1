/**
 * Image trust (the guide's "Image Trust"): public keys signatures are verified with, per registry
 * (/api/v1/registries/{name}/trust/keys) and for every registry (/api/v1/trust/keys, admins), the registry's pull policy
 * (/api/v1/registries/{name}/trust/policy) and an artifact's signatures (.../artifacts/{digest}/signatures).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TrustKey } from '../../domain/trust/ports.js';
import { actor, type ApiDeps, authorize, iso, withErrors } from './common.js';

const KeyOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scope: Type.String({ description: 'the registry, or "*" for a key trusted in every registry' }),
  algorithm: Type.String(),
  fingerprint: Type.String({ description: 'sha256 of the DER public key, hex' }),
  pem: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
});
const KeyIn = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 63 }), pem: Type.String({ minLength: 1, maxLength: 16_384, description: 'PEM public key, e.g. the contents of cosign.pub' }) },
  { additionalProperties: false },
);
const PolicyOut = Type.Object({ requireVerified: Type.Boolean({ description: 'only images with a signature a registered key verifies can be pulled' }) });
const SignaturesOut = Type.Object({
  status: Type.String(),
  keys: Type.Array(Type.String()),
  signatures: Type.Array(
    Type.Object({ digest: Type.String(), kind: Type.String(), status: Type.String(), keyName: Type.Union([Type.String(), Type.Null()]), reason: Type.Union([Type.String(), Type.Null()]), signedAt: Type.String({ format: 'date-time' }) }),
  ),
  attestations: Type.Array(Type.Object({ digest: Type.String(), kind: Type.String(), at: Type.String({ format: 'date-time' }) })),
});

const RegParams = Type.Object({ registry: Type.String({ minLength: 1, maxLength: 255 }) });
const RegKeyParams = Type.Object({ registry: Type.String({ minLength: 1, maxLength: 255 }), id: Type.String({ minLength: 1, maxLength: 64 }) });
const KeyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
type P = { registry?: string; id?: string; image?: string; digest?: string };

const keyView = (k: TrustKey) => ({ id: k.id, name: k.name, scope: k.registryId ?? '*', algorithm: k.algorithm, fingerprint: k.fingerprint, pem: k.pem, createdAt: iso(k.createdAt)!, createdBy: k.createdBy });

export function trustRoutes(app: FastifyInstance, deps: ApiDeps) {
  const { trust } = deps;
  if (!trust) return;
  const reg = (req: FastifyRequest) => (req.params as P).registry!;

  for (const scoped of [true, false]) {
    const base = scoped ? '/registries/:registry/trust/keys' : '/trust/keys';
    const who = scoped ? "the registry's" : 'global (every registry)';
    const registryOf = (req: FastifyRequest) => (scoped ? reg(req) : null);
    const view = (req: FastifyRequest) => (scoped ? authorize(deps, req, 'trust:view', { registry: reg(req) }) : authorize(deps, req, 'trust:view'));
    const change = (req: FastifyRequest) => (scoped ? authorize(deps, req, 'trust:change', { registry: reg(req) }) : authorize(deps, req, 'trust:global'));
    app.get(base, { schema: { tags: ['trust'], summary: `List ${who} public keys`, ...(scoped ? { params: RegParams } : {}), response: withErrors({ 200: Type.Object({ items: Type.Array(KeyOut) }) }) } }, async (req) => {
      const p = await view(req);
      return { items: (await trust.keys(registryOf(req), actor(req, p))).map(keyView) };
    });
    app.post(base, { schema: { tags: ['trust'], summary: `Add a public key (PEM: ECDSA P-256/P-384/P-521, RSA or Ed25519) to ${who} keys`, ...(scoped ? { params: RegParams } : {}), body: KeyIn, response: withErrors({ 201: KeyOut }) } }, async (req, reply) => {
      const p = await change(req);
      return reply.code(201).send(keyView(await trust.addKey(registryOf(req), req.body as { name: string; pem: string }, actor(req, p))));
    });
    app.delete(`${base}/:id`, { schema: { tags: ['trust'], summary: `Delete one of ${who} public keys`, params: scoped ? RegKeyParams : KeyParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
      const p = await change(req);
      await trust.deleteKey(registryOf(req), (req.params as P).id!, actor(req, p));
      return reply.code(204).send();
    });
  }

  app.get('/registries/:registry/trust/policy', { schema: { tags: ['trust'], summary: "The registry's pull policy", params: RegParams, response: withErrors({ 200: PolicyOut }) } }, async (req) => {
    const p = await authorize(deps, req, 'trust:view', { registry: reg(req) });
    return trust.policy(reg(req), actor(req, p));
  });
  app.put(
    '/registries/:registry/trust/policy',
    { schema: { tags: ['trust'], summary: 'Set the pull policy: with requireVerified, manifests without a verified cosign signature are refused (412 PULL_REFUSED)', params: RegParams, body: PolicyOut, response: withErrors({ 200: PolicyOut }) } },
    async (req) => {
      const p = await authorize(deps, req, 'trust:change', { registry: reg(req) });
      return trust.setPolicy(reg(req), (req.body as { requireVerified: boolean }).requireVerified, actor(req, p));
    },
  );

  app.get(
    '/registries/:registry/images/:image/artifacts/:digest/signatures',
    { schema: { tags: ['trust'], summary: "An artifact's signatures, attestations and SBOMs, each signature with its status and key", params: Type.Object({ registry: Type.String(), image: Type.String(), digest: Type.String() }), response: withErrors({ 200: SignaturesOut }) } },
    async (req) => {
      const { registry, image, digest } = req.params as Required<P>;
      await authorize(deps, req, 'artifact:view', { registry, repository: `${registry}/${image}` });
      const repo = await deps.registries.image(registry, image);
      await deps.registries.artifact(repo, digest);
      const t = await trust.status(repo.name, digest);
      return { ...t, signatures: t.signatures.map((s) => ({ ...s, signedAt: iso(s.signedAt)! })), attestations: t.attestations.map((a) => ({ ...a, at: iso(a.at)! })) };
    },
  );
}
