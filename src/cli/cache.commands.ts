/**
 * `ncr cache ...`: image cache sources (remote registry endpoints, the console's "Image Cache" tab) and image cache
 * registries, over /api/v1.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { call, conn, out } from './client.js';

const enc = encodeURIComponent;
const ENDPOINT_COLUMNS = ['name', 'provider', 'url', 'accessId', 'secretSet', 'status'];
const REGISTRY_COLUMNS = ['name', 'kind', 'endpoint', 'address', 'imageCount', 'storageBytes'];

interface EndpointOpts {
  name?: string;
  provider?: string;
  address?: string;
  accessId?: string;
  secret?: string;
  secretFile?: string;
  caFile?: string;
  description?: string;
}

function endpointOptions(c: Command): Command {
  return c
    .option('--provider <type>', 'ncr, ecr, acr, gcr, docker-hub, docker-registry, harbor or quay (see `ncr cache endpoint providers`)')
    .option('--address <url>', "the source registry's URL, scheme://host[:port] (Docker Hub: https://hub.docker.com); --url is the ncr server's")
    .option('--access-id <id>', 'user name, access key id, _json_key (GCR), json_file (Quay)')
    .option('--secret <secret>', 'password, secret key; write-only ("" removes it)')
    .option('--secret-file <file>', 'read the secret from a file (a GCR JSON key, a Quay json_file)')
    .option('--ca-file <file>', 'an extra CA certificate (PEM) to trust for this registry')
    .option('--description <text>');
}

function endpointBody(o: EndpointOpts): Record<string, unknown> {
  return {
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.provider !== undefined ? { provider: o.provider } : {}),
    ...(o.address !== undefined ? { url: o.address } : {}),
    ...(o.accessId !== undefined ? { accessId: o.accessId } : {}),
    ...(o.secretFile !== undefined ? { secret: readFileSync(o.secretFile, 'utf8').trim() } : o.secret !== undefined ? { secret: o.secret } : {}),
    ...(o.caFile !== undefined ? { caPem: readFileSync(o.caFile, 'utf8') } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
  };
}

const registryRow = (r: { endpoint: { name: string } | null }) => ({ ...r, endpoint: r.endpoint?.name ?? null });

export function cacheCommands(program: Command) {
  const cache = program.command('cache').description('image cache: source registries (endpoints) and pull-through cache registries');

  cache
    .command('create <registry>')
    .description('create an image cache registry pulling from an endpoint: `docker pull HOST/REGISTRY/IMAGE:TAG` (pushes into it are refused)')
    .requiredOption('--endpoint <name>', 'the source: an endpoint (id or name)')
    .action(async (registry: string, o: { endpoint: string }, cmd: Command) => {
      const c = conn(cmd);
      const created = await call(c, 'POST', '/registries', { name: registry, kind: 'cache', endpoint: o.endpoint });
      out(c, c.json ? created : registryRow(created), REGISTRY_COLUMNS);
    });
  cache
    .command('list')
    .description('the image cache registries and their sources')
    .action(async (_o, cmd: Command) => {
      const c = conn(cmd);
      const items: { kind: string; endpoint: { name: string } | null }[] = [];
      for (let page = 1; ; page++) {
        const p = await call(c, 'GET', `/registries?page=${page}&perPage=100`);
        items.push(...p.items.filter((r: { kind: string }) => r.kind === 'cache'));
        if (page * 100 >= p.total) break;
      }
      out(c, c.json ? { items } : items.map(registryRow), REGISTRY_COLUMNS);
    });

  const ep = cache.command('endpoint').description('source registries (remote registry endpoints): create, modify, check, delete');
  ep.command('providers').description("the kinds of source registry and what their access id and secret are").action(async (_o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', '/endpoint-providers'), ['provider', 'title', 'urlExample', 'accessId', 'secret']);
  });
  ep.command('list').action(async (_o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', '/endpoints'), ENDPOINT_COLUMNS);
  });
  ep.command('show <endpoint>').action(async (endpoint: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'GET', `/endpoints/${enc(endpoint)}`), [...ENDPOINT_COLUMNS, 'checkError']);
  });
  endpointOptions(ep.command('create <name>').description('create an endpoint (Create Image Cache)')).action(async (name: string, o: EndpointOpts, cmd: Command) => {
    const c = conn(cmd);
    if (!o.provider || !o.address) throw new Error('give --provider and --address');
    out(c, await call(c, 'POST', '/endpoints', endpointBody({ ...o, name })), ENDPOINT_COLUMNS);
  });
  endpointOptions(ep.command('update <endpoint>').description('change an endpoint (Modify Image Cache): only the options given').option('--name <name>', 'rename it')).action(
    async (endpoint: string, o: EndpointOpts, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'PATCH', `/endpoints/${enc(endpoint)}`, endpointBody(o)), ENDPOINT_COLUMNS);
    },
  );
  ep.command('check <endpoint>').description('Refresh: ask the source now whether it answers and accepts the credentials').action(async (endpoint: string, _o, cmd: Command) => {
    const c = conn(cmd);
    out(c, await call(c, 'POST', `/endpoints/${enc(endpoint)}/check`), [...ENDPOINT_COLUMNS, 'checkError']);
  });
  ep.command('delete <endpoint>').description('delete an endpoint (refused while an image cache registry uses it)').action(async (endpoint: string, _o, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', `/endpoints/${enc(endpoint)}`);
    process.stdout.write(`deleted endpoint ${endpoint}\n`);
  });
}
