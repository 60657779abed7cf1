/** /api/v1/registries/:registry/images: images (repositories), their artifacts and tags. Image names may hold '/', sent as %2F. */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseManifest } from '../../oci/manifest.js';
import { actor, type ApiDeps, iso, NullableDate, authorize, PageFields, PageQuery, pageOf, Paged, withErrors } from './common.js';

const ImageParams = Type.Object({ registry: Type.String(), image: Type.String() });
const ArtifactParams = Type.Object({ registry: Type.String(), image: Type.String(), digest: Type.String() });
const TagParams = Type.Object({ registry: Type.String(), image: Type.String(), tag: Type.String() });

const ImageOut = Type.Object({
  name: Type.String({ description: 'image name inside the registry' }),
  repository: Type.String({ description: 'full repository name, registry/image' }),
  artifactCount: Type.Integer(),
  tagCount: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  pulledAt: NullableDate,
});
const ArtifactOut = Type.Object({
  digest: Type.String(),
  mediaType: Type.String(),
  artifactType: Type.Union([Type.String(), Type.Null()]),
  size: Type.Integer({ description: 'bytes of the config and layers (an index: of its children)' }),
  manifestSize: Type.Integer(),
  platforms: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  subject: Type.Union([Type.String(), Type.Null()]),
  pushedAt: Type.String({ format: 'date-time' }),
  pushedBy: Type.Union([Type.String(), Type.Null()]),
  pulledAt: NullableDate,
  authentication: Type.Optional(
    Type.Object(
      {
        status: Type.Union(['verified', 'invalid', 'unverified', 'unsigned'].map((x) => Type.Literal(x))),
        keys: Type.Array(Type.String(), { description: 'names of the registered keys that verify its signatures' }),
        signatures: Type.Integer(),
      },
      { description: "the guide's Authentication column: cosign signatures and whether a registered key verifies them" },
    ),
  ),
});
const TagOut = Type.Object({ name: Type.String(), digest: Type.String(), pushedAt: Type.String({ format: 'date-time' }), pulledAt: NullableDate });

type P = { registry: string; image: string; digest?: string; tag?: string };

export function imageRoutes(app: FastifyInstance, deps: ApiDeps) {
  /** What a route acts on, for the permission check and its message. */
  const target = (req: FastifyRequest) => {
    const p = req.params as P;
    return p.image === undefined ? { registry: p.registry } : { registry: p.registry, repository: `${p.registry}/${p.image}` };
  };
  const repoOf = (req: FastifyRequest) => {
    const p = req.params as P;
    return deps.registries.image(p.registry, p.image);
  };
  const artifactView = (a: Awaited<ReturnType<typeof deps.registries.artifacts>>['items'][number]) => ({
    digest: a.digest,
    mediaType: a.mediaType,
    artifactType: a.artifactType,
    size: a.totalSize,
    manifestSize: a.size,
    platforms: a.platforms,
    tags: a.tags,
    subject: a.subjectDigest,
    pushedAt: iso(a.pushedAt)!,
    pushedBy: a.pushedBy,
    pulledAt: iso(a.pulledAt),
  });

  /** The Authentication column, when the trust capability is there. */
  const authentication = async (repoName: string, digest: string) => {
    if (!deps.trust) return {};
    const t = await deps.trust.status(repoName, digest);
    return { authentication: { status: t.status, keys: t.keys, signatures: t.signatures.length } };
  };

  app.get('/registries/:registry/images', { schema: { tags: ['images'], summary: 'List images', params: Type.Object({ registry: Type.String() }), querystring: PageQuery, response: withErrors({ 200: Paged(ImageOut) }) } }, async (req) => {
    await authorize(deps, req, 'image:view', target(req));
    const { registry } = req.params as P;
    const page = await deps.registries.images(registry, pageOf(req.query));
    return {
      ...page,
      items: page.items.map((r) => ({
        name: r.name.slice(registry.length + 1),
        repository: r.name,
        artifactCount: r.artifactCount,
        tagCount: r.tagCount,
        createdAt: iso(r.createdAt)!,
        updatedAt: iso(r.updatedAt)!,
        pulledAt: iso(r.pulledAt),
      })),
    };
  });

  app.delete('/registries/:registry/images/:image', { schema: { tags: ['images'], summary: 'Delete an image with all its artifacts and tags', params: ImageParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const p = await authorize(deps, req, 'image:delete', target(req));
    const { registry, image } = req.params as P;
    await deps.registries.deleteImage(registry, image, actor(req, p));
    return reply.code(204).send();
  });

  app.get(
    '/registries/:registry/images/:image/artifacts',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'List artifacts of an image (newest first); signatures, attestations and SBOMs are listed under their artifact (its signatures endpoint) unless accessories=true',
        params: ImageParams,
        querystring: Type.Object({ ...PageFields, accessories: Type.Optional(Type.Boolean({ default: false, description: 'also list signatures, attestations and SBOMs as artifacts of their own' })) }),
        response: withErrors({ 200: Paged(ArtifactOut) }),
      },
    },
    async (req) => {
    await authorize(deps, req, 'artifact:view', target(req));
    const repo = await repoOf(req);
    const page = await deps.registries.artifacts(repo, { ...pageOf(req.query), withoutAccessories: !(req.query as { accessories?: boolean }).accessories });
    return { ...page, items: await Promise.all(page.items.map(async (a) => ({ ...artifactView(a), ...(await authentication(repo.name, a.digest)) }))) };
    },
  );

  app.get('/registries/:registry/images/:image/artifacts/:digest', { schema: { tags: ['artifacts'], summary: 'Artifact detail: manifest, config summary, layers, pull commands', params: ArtifactParams } }, async (req) => {
    await authorize(deps, req, 'artifact:view', target(req));
    const repo = await repoOf(req);
    const { artifact, content, tags } = await deps.registries.artifact(repo, (req.params as P).digest!);
    const parsed = parseManifest(content, artifact.mediaType);
    let config: unknown = null;
    if (parsed.config && parsed.config.size <= 1024 * 1024 && /json/.test(parsed.config.mediaType)) {
      try {
        const { stream } = await deps.blobs.open(repo.name, parsed.config.digest);
        const chunks: Buffer[] = [];
        for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
        const full = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        config = {
          architecture: full.architecture ?? null,
          os: full.os ?? null,
          created: full.created ?? null,
          author: full.author ?? null,
          cmd: full.config?.Cmd ?? null,
          entrypoint: full.config?.Entrypoint ?? null,
          env: full.config?.Env ?? null,
          labels: full.config?.Labels ?? null,
          raw: full,
        };
      } catch {
        config = null;
      }
    }
    const address = `${deps.auth.service(req)}/${repo.name}`;
    return {
      ...artifactView({ ...artifact, tags }),
      ...(deps.trust ? { trust: await deps.trust.status(repo.name, artifact.digest) } : {}),
      manifest: JSON.parse(Buffer.from(content).toString('utf8')),
      config,
      layers: parsed.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
      manifests: parsed.manifests.map((m) => ({ digest: m.digest, size: m.size, mediaType: m.mediaType, platform: m.platform ?? null })),
      pullCommands: {
        byDigest: `docker pull ${address}@${artifact.digest}`,
        byTag: tags.map((t) => `docker pull ${address}:${t}`),
      },
    };
  });

  app.delete('/registries/:registry/images/:image/artifacts/:digest', { schema: { tags: ['artifacts'], summary: 'Delete an artifact with its tags, its referrers (signatures, SBOMs) and the index children nothing else references', params: ArtifactParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const p = await authorize(deps, req, 'artifact:delete', target(req));
    await deps.manifests.deleteArtifact(await repoOf(req), (req.params as P).digest!, actor(req, p), { accessories: true });
    return reply.code(204).send();
  });

  app.get(
    '/registries/:registry/images/:image/tags',
    {
      schema: {
        tags: ['tags'],
        summary: "List and search tags (optionally of one artifact); cosign's accessory tags (sha256-<hex>.sig, .att, .sbom) only with accessories=true or a digest",
        params: ImageParams,
        querystring: Type.Composite([
          PageQuery,
          Type.Object({
            digest: Type.Optional(Type.String()),
            accessories: Type.Optional(Type.Boolean({ default: false, description: "also list cosign's signature, attestation and SBOM tags (always listed with digest)" })),
          }),
        ]),
        response: withErrors({ 200: Paged(TagOut) }),
      },
    },
    async (req) => {
      await authorize(deps, req, 'tag:view', target(req));
      const q = pageOf(req.query);
      const { digest, accessories } = req.query as { digest?: string; accessories?: boolean };
      const page = await deps.registries.tags(await repoOf(req), { ...q, digest: digest || undefined, withoutAccessories: !digest && !accessories });
      return { ...page, items: page.items.map((t) => ({ name: t.name, digest: t.digest, pushedAt: iso(t.pushedAt)!, pulledAt: iso(t.pulledAt) })) };
    },
  );

  app.post(
    '/registries/:registry/images/:image/tags',
    {
      schema: {
        tags: ['tags'],
        summary: 'Create (or move) a tag on an artifact',
        params: ImageParams,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), digest: Type.String() }, { additionalProperties: false }),
        response: withErrors({ 201: TagOut }),
      },
    },
    async (req, reply) => {
      const p = await authorize(deps, req, 'tag:create', target(req));
      const { name, digest } = req.body as { name: string; digest: string };
      const repo = await repoOf(req);
      await deps.manifests.createTag(repo, name, digest, actor(req, p));
      // read back by name: a search page may not hold it (more than a page of tags can contain the name)
      const t = await deps.registries.tag(repo, name);
      return reply.code(201).send({ name: t.name, digest: t.digest, pushedAt: iso(t.pushedAt)!, pulledAt: iso(t.pulledAt) });
    },
  );

  app.delete('/registries/:registry/images/:image/tags/:tag', { schema: { tags: ['tags'], summary: 'Delete a tag (the artifact stays)', params: TagParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    const p = await authorize(deps, req, 'tag:delete', target(req));
    await deps.manifests.deleteTag(await repoOf(req), (req.params as P).tag!, actor(req, p));
    return reply.code(204).send();
  });
}
