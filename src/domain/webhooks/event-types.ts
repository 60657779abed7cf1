/**
 * The webhook event types, named as Harbor names them, and which domain events each is made of. Adding an event type
 * is one entry here: its Harbor name, its CloudEvents type, the domain events it comes from and how one becomes the
 * payload's `event_data`. Types whose capability does not exist yet have no `from`: they may be subscribed to and are
 * sent once an entry gives them a source.
 */
import type { DomainEvent, DomainEventType } from '../events.js';

/** What a payload builder knows besides the event. */
export interface PayloadContext {
  /** host[:port] clients push to, e.g. registry.example.com (Harbor's resource_url has no scheme) */
  registryHost: string;
  /** when the repository was created (epoch ms), if it (still) exists */
  repositoryCreatedAt?: number;
}

/** Harbor's resource entry; absent fields are left out (Harbor's `omitempty`). */
export interface HarborResource {
  digest?: string;
  tag?: string;
  resource_url?: string;
}

export interface HarborRepository {
  date_created?: number;
  name: string;
  namespace: string;
  repo_full_name: string;
  repo_type: string;
}

export interface EventSource {
  /** the domain events it is made of */
  from: DomainEventType[];
  /** false for events of that type that do not count (e.g. dry runs) */
  when?(e: DomainEvent): boolean;
  /** the registry (Harbor's project) the event belongs to */
  registry(e: DomainEvent): string;
  /** the repository the event is about (for date_created), if any */
  repository?(e: DomainEvent): string | undefined;
  /** Harbor's `event_data` */
  data(e: DomainEvent, ctx: PayloadContext): Record<string, unknown>;
}

export interface WebhookEventDef {
  /** Harbor's event type name */
  type: string;
  /** CloudEvents `type` attribute (Harbor's names) */
  cloudEventType: string;
  /** what the console and Slack call it */
  title: string;
  /** absent until the capability that produces it exists */
  source?: EventSource;
}

const repoOf = (repository: string): HarborRepository => {
  const slash = repository.indexOf('/');
  return { name: repository.slice(slash + 1), namespace: repository.slice(0, slash), repo_full_name: repository, repo_type: 'private' };
};

function artifactData(repository: string, digest: string, tags: string[], ctx: PayloadContext) {
  const url = (ref: string) => `${ctx.registryHost}/${repository}${ref}`;
  const resources: HarborResource[] = tags.length === 0 ? [{ digest, resource_url: url(`@${digest}`) }] : tags.map((tag) => ({ digest, tag, resource_url: url(`:${tag}`) }));
  const repo = repoOf(repository);
  return {
    resources,
    repository: ctx.repositoryCreatedAt === undefined ? repo : { date_created: Math.floor(ctx.repositoryCreatedAt / 1000), ...repo },
  };
}

type ArtifactEvent = Extract<DomainEvent, { type: 'ArtifactPushed' | 'ArtifactPulled' | 'ArtifactDeleted' }>;

const artifactSource = (type: ArtifactEvent['type']): EventSource => ({
  from: [type],
  registry: (e) => (e as ArtifactEvent).repository.split('/')[0],
  repository: (e) => (e as ArtifactEvent).repository,
  data: (e, ctx) => {
    const a = e as ArtifactEvent;
    const tags = a.type === 'ArtifactDeleted' ? (a.tags ?? []) : a.tag ? [a.tag] : [];
    return artifactData(a.repository, a.digest, tags, ctx);
  },
});

type QuotaEvent = Extract<DomainEvent, { type: 'QuotaExceeded' | 'QuotaWarning' }>;

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** Harbor's quota payload: the blob pushed, the repository, and a sentence in custom_attributes.Details. */
const quotaSource = (type: QuotaEvent['type']): EventSource => ({
  from: [type],
  registry: (e) => (e as QuotaEvent).registry,
  repository: (e) => (e as QuotaEvent).repository,
  data: (e, ctx) => {
    const q = e as QuotaEvent;
    const details =
      q.type === 'QuotaExceeded'
        ? `adding ${mib(q.size)} of storage resource, which when updated to current usage of ${mib(q.usedBytes)} will exceed the configured upper limit of ${mib(q.quotaBytes)}.`
        : `quota usage reach ${Math.round((q.usedBytes / q.quotaBytes) * 100)}%: storage resource, usage ${mib(q.usedBytes)} of ${mib(q.quotaBytes)}`;
    return { ...artifactData(q.repository, q.digest, [], ctx), custom_attributes: { Details: details } };
  },
});

type ScanEvent = Extract<DomainEvent, { type: 'ScanFinished' }>;

/** A finished scan of one status; the resource carries Harbor's scan_overview. */
const scanSource = (status: ScanEvent['status']): EventSource => ({
  from: ['ScanFinished'],
  when: (e) => e.type === 'ScanFinished' && e.status === status,
  registry: (e) => (e as ScanEvent).repository.split('/')[0]!,
  repository: (e) => (e as ScanEvent).repository,
  data: (e, ctx) => {
    const s = e as ScanEvent;
    const d = artifactData(s.repository, s.digest, [], ctx);
    const overview = { scan_status: s.status, severity: s.severity ?? '', summary: { total: s.total ?? 0, fixable: s.fixable ?? 0 }, ...(s.message ? { message: s.message } : {}) };
    return { ...d, resources: d.resources.map((r) => ({ ...r, scan_overview: { 'application/vnd.security.vulnerability.report; version=1.1': overview } })) };
  },
});

export const WEBHOOK_EVENTS: readonly WebhookEventDef[] = [
  { type: 'PUSH_ARTIFACT', cloudEventType: 'harbor.artifact.pushed', title: 'Artifact pushed', source: artifactSource('ArtifactPushed') },
  { type: 'PULL_ARTIFACT', cloudEventType: 'harbor.artifact.pulled', title: 'Artifact pulled', source: artifactSource('ArtifactPulled') },
  { type: 'DELETE_ARTIFACT', cloudEventType: 'harbor.artifact.deleted', title: 'Artifact deleted', source: artifactSource('ArtifactDeleted') },
  {
    type: 'TAG_RETENTION',
    cloudEventType: 'harbor.tag_retention.finished',
    title: 'Image cleanup finished',
    source: {
      from: ['CleanupRunFinished'],
      // a test run (dry run) deletes nothing: Harbor sends TAG_RETENTION for real runs
      when: (e) => e.type === 'CleanupRunFinished' && !e.dryRun,
      registry: (e) => (e as Extract<DomainEvent, { type: 'CleanupRunFinished' }>).registry,
      data: (e, ctx) => {
        const c = e as Extract<DomainEvent, { type: 'CleanupRunFinished' }>;
        // the cleanup capability counts `artifacts` judged and `kept` (protected ones are kept too)
        const total = c.counts.artifacts ?? c.counts.total ?? 0;
        const deleted = c.counts.deleted ?? 0;
        return {
          retention: {
            total,
            retained: c.counts.kept !== undefined ? c.counts.kept + (c.counts.protected ?? 0) : Math.max(0, total - deleted),
            hostname: ctx.registryHost,
            project_name: c.registry,
            execution_id: c.executionId,
            result: c.status.toUpperCase(),
            counts: c.counts,
          },
        };
      },
    },
  },
  { type: 'SCANNING_COMPLETED', cloudEventType: 'harbor.scan.completed', title: 'Scan completed', source: scanSource('Success') },
  { type: 'SCANNING_FAILED', cloudEventType: 'harbor.scan.failed', title: 'Scan failed', source: scanSource('Error') },
  { type: 'SCANNING_STOPPED', cloudEventType: 'harbor.scan.stopped', title: 'Scan stopped', source: scanSource('Stopped') },
  {
    type: 'REPLICATION',
    cloudEventType: 'harbor.replication.status.changed',
    title: 'Replication status changed',
    source: {
      from: ['ReplicationRunFinished'],
      registry: (e) => (e as Extract<DomainEvent, { type: 'ReplicationRunFinished' }>).registry,
      data: (e, ctx) => {
        const r = e as Extract<DomainEvent, { type: 'ReplicationRunFinished' }>;
        return {
          replication: {
            harbor_hostname: ctx.registryHost,
            job_status: r.status.toUpperCase(),
            policy_creator: null,
            trigger_type: r.trigger === 'event' ? 'EVENT_BASED' : 'MANUAL',
            execution_id: r.executionId,
            src_resource: { registry_type: 'ncr', endpoint: ctx.registryHost, namespace: r.registry },
            dest_resource: { registry_name: r.target },
            rule: r.name,
            counts: r.counts,
          },
        };
      },
    },
  },
  { type: 'QUOTA_EXCEED', cloudEventType: 'harbor.quota.exceed', title: 'Quota exceeded', source: quotaSource('QuotaExceeded') },
  { type: 'QUOTA_WARNING', cloudEventType: 'harbor.quota.warned', title: 'Quota near its limit', source: quotaSource('QuotaWarning') },
];

export const WEBHOOK_EVENT_TYPES: readonly string[] = WEBHOOK_EVENTS.map((d) => d.type);
export const eventDef = (type: string): WebhookEventDef | undefined => WEBHOOK_EVENTS.find((d) => d.type === type);

/** The domain event types some webhook event type is made of: what the outbox subscription asks for. */
export const SOURCE_EVENT_TYPES: DomainEventType[] = [...new Set(WEBHOOK_EVENTS.flatMap((d) => d.source?.from ?? []))];

/** The webhook event types a domain event counts as (usually one, none for most events). */
export function webhookTypesOf(e: DomainEvent): WebhookEventDef[] {
  return WEBHOOK_EVENTS.filter((d) => d.source && d.source.from.includes(e.type) && (d.source.when?.(e) ?? true));
}
