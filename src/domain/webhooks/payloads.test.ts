import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../events.js';
import { eventDef, SOURCE_EVENT_TYPES, webhookTypesOf, WEBHOOK_EVENT_TYPES } from './event-types.js';
import { validateInput } from './model.js';
import { buildBody } from './payloads.js';
import { signature } from './deliveries.js';

const at = Date.parse('2026-01-02T03:04:05.678Z');
const actor = { userId: 'u1', username: 'vera' };
const digest = 'sha256:' + 'ab'.repeat(32);
const ctx = { registryHost: 'registry.example.com', repositoryCreatedAt: Date.parse('2025-12-01T00:00:00Z') };
const hook = { id: 'w1', registry: 'team', targetType: 'http' as const, payloadFormat: 'Default' as const };

describe('event types', () => {
  it('maps ArtifactPushed/Pulled/Deleted, non-dry cleanup runs, quota events, replication runs and finished scans, and nothing else', () => {
    const of = (e: DomainEvent) => webhookTypesOf(e).map((d) => d.type);
    expect(of({ type: 'ArtifactPushed', at, actor, repository: 'team/app', digest, mediaType: 'x', size: 1 })).toEqual(['PUSH_ARTIFACT']);
    expect(of({ type: 'ArtifactPulled', at, actor, repository: 'team/app', digest })).toEqual(['PULL_ARTIFACT']);
    expect(of({ type: 'ArtifactDeleted', at, actor, repository: 'team/app', digest })).toEqual(['DELETE_ARTIFACT']);
    expect(of({ type: 'TagDeleted', at, actor, repository: 'team/app', digest, tag: 'x' })).toEqual([]);
    const run = (dryRun: boolean): DomainEvent => ({ type: 'CleanupRunFinished', at, actor, registry: 'team', executionId: 'e', dryRun, status: 'succeeded', counts: {} });
    expect(of(run(true))).toEqual([]);
    expect(of(run(false))).toEqual(['TAG_RETENTION']);
    const quota = (type: 'QuotaExceeded' | 'QuotaWarning'): DomainEvent => ({ type, at, actor, registry: 'team', repository: 'team/app', digest, size: 1, usedBytes: 9, quotaBytes: 10 });
    expect(of(quota('QuotaExceeded'))).toEqual(['QUOTA_EXCEED']);
    expect(of(quota('QuotaWarning'))).toEqual(['QUOTA_WARNING']);
    expect(of({ type: 'RegistryQuotaChanged', at, actor, registry: 'team', quotaBytes: 10 })).toEqual([]);
    const replicated: DomainEvent = { type: 'ReplicationRunFinished', at, actor, registry: 'team', name: 'to-seoul', ruleId: 'r1', executionId: 'e', trigger: 'event', target: 'seoul: https://r.example.com/team', status: 'succeeded', counts: { copied: 1 } };
    expect(of(replicated)).toEqual(['REPLICATION']);
    expect(of({ type: 'ScanFinished', at, actor, repository: 'team/app', digest, status: 'Error', message: 'x' })).toEqual(['SCANNING_FAILED']);
    expect(SOURCE_EVENT_TYPES.sort()).toEqual(['ArtifactDeleted', 'ArtifactPulled', 'ArtifactPushed', 'CleanupRunFinished', 'QuotaExceeded', 'QuotaWarning', 'ReplicationRunFinished', 'ScanFinished']);
    expect(WEBHOOK_EVENT_TYPES).toEqual(['PUSH_ARTIFACT', 'PULL_ARTIFACT', 'DELETE_ARTIFACT', 'TAG_RETENTION', 'SCANNING_COMPLETED', 'SCANNING_FAILED', 'SCANNING_STOPPED', 'REPLICATION', 'QUOTA_EXCEED', 'QUOTA_WARNING']);
  });
});

describe('payloads', () => {
  it("Default is Harbor's payload, key for key and in Harbor's order; an untagged artifact is named by digest", () => {
    const e: DomainEvent = { type: 'ArtifactPushed', at, actor, repository: 'team/apps/web', digest, mediaType: 'x', size: 1 };
    const { body, contentType } = buildBody(hook, eventDef('PUSH_ARTIFACT')!, e, 'evt-1', ctx);
    expect(contentType).toBe('application/json');
    expect(body).toBe(
      JSON.stringify({
        type: 'PUSH_ARTIFACT',
        occur_at: 1767323045,
        operator: 'vera',
        event_data: {
          resources: [{ digest, resource_url: `registry.example.com/team/apps/web@${digest}` }],
          repository: { date_created: 1764547200, name: 'apps/web', namespace: 'team', repo_full_name: 'team/apps/web', repo_type: 'private' },
        },
      }),
    );
  });

  it("REPLICATION: Harbor's replication block, the run's status and trigger, where it copied to", () => {
    const e: DomainEvent = { type: 'ReplicationRunFinished', at, actor: { userId: null, username: 'replication' }, registry: 'team', name: 'to-seoul', ruleId: 'r1', executionId: 'e1', trigger: 'manual', target: 'seoul: https://r.example.com/team', status: 'failed', counts: { copied: 2, failed: 1 } };
    const body = JSON.parse(buildBody(hook, eventDef('REPLICATION')!, e, 'evt-2', ctx).body);
    expect(body).toMatchObject({ type: 'REPLICATION', operator: 'replication' });
    expect(body.event_data.replication).toMatchObject({
      harbor_hostname: 'registry.example.com',
      job_status: 'FAILED',
      trigger_type: 'MANUAL',
      execution_id: 'e1',
      src_resource: { namespace: 'team' },
      dest_resource: { registry_name: 'seoul: https://r.example.com/team' },
      rule: 'to-seoul',
      counts: { copied: 2, failed: 1 },
    });
  });

  it('a deleted artifact lists one resource per tag it had; a gone repository has no date_created', () => {
    const e: DomainEvent = { type: 'ArtifactDeleted', at, actor: { userId: null, username: null }, repository: 'team/app', digest, tags: ['1', 'latest'] };
    const p = JSON.parse(buildBody(hook, eventDef('DELETE_ARTIFACT')!, e, 'evt-2', { registryHost: 'h:5000' }).body);
    expect(p.operator).toBe('system');
    expect(p.event_data.resources).toEqual([
      { digest, tag: '1', resource_url: 'h:5000/team/app:1' },
      { digest, tag: 'latest', resource_url: 'h:5000/team/app:latest' },
    ]);
    expect(p.event_data.repository).toEqual({ name: 'app', namespace: 'team', repo_full_name: 'team/app', repo_type: 'private' });
  });

  it('CloudEvents: structured mode, Harbor type names, the webhook as source, the event id as id', () => {
    const e: DomainEvent = { type: 'ArtifactPulled', at, actor, repository: 'team/app', digest, tag: 'v1' };
    const { body, contentType } = buildBody({ ...hook, payloadFormat: 'CloudEvents' }, eventDef('PULL_ARTIFACT')!, e, 'evt-3', ctx);
    expect(contentType).toBe('application/cloudevents+json');
    expect(JSON.parse(body)).toEqual({
      specversion: '1.0',
      id: 'evt-3',
      source: '/registries/team/webhooks/w1',
      type: 'harbor.artifact.pulled',
      datacontenttype: 'application/json',
      time: '2026-01-02T03:04:05.678Z',
      operator: 'vera',
      data: {
        resources: [{ digest, tag: 'v1', resource_url: 'registry.example.com/team/app:v1' }],
        repository: { date_created: 1764547200, name: 'app', namespace: 'team', repo_full_name: 'team/app', repo_type: 'private' },
      },
    });
  });

  it('Slack: a header, who/what/when fields and the payload attached, within Block Kit limits', () => {
    const e: DomainEvent = { type: 'ArtifactPushed', at, actor, repository: 'team/app', digest, mediaType: 'x', size: 1, tag: 'v1' };
    const m = JSON.parse(buildBody({ ...hook, targetType: 'slack' }, eventDef('PUSH_ARTIFACT')!, e, 'evt-4', ctx).body);
    expect(m.text).toBe('Artifact pushed: team/app:v1 by vera');
    expect(m.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context', 'section']);
    expect(m.blocks[1].fields.map((f: { text: string }) => f.text)).toEqual([
      '*Event*\nArtifact pushed (PUSH_ARTIFACT)',
      '*Image*\n`team/app:v1`',
      `*Digest*\n\`${digest}\``,
      '*By*\nvera',
      '*When*\n2026-01-02 03:04:05 UTC',
    ]);
    for (const b of m.blocks) if (b.text?.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
  });

  it('signs the body with HMAC-SHA256 under the secret', () => {
    // RFC 4231-style known answer: HMAC-SHA256(key "key", "The quick brown fox jumps over the lazy dog")
    expect(signature('key', 'The quick brown fox jumps over the lazy dog')).toBe('sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  });
});

describe('validateInput', () => {
  it('needs a name, an http(s) address and at least one known event type; fills the defaults', () => {
    expect(validateInput({ name: 'ci', address: 'https://ci.example.com/hook', eventTypes: ['PUSH_ARTIFACT', 'PUSH_ARTIFACT'] }, true)).toEqual({
      name: 'ci',
      targetType: 'http',
      address: 'https://ci.example.com/hook',
      payloadFormat: 'Default',
      eventTypes: ['PUSH_ARTIFACT'],
    });
    expect(() => validateInput({ address: 'https://x', eventTypes: ['PUSH_ARTIFACT'] }, true)).toThrow(/name/);
    expect(() => validateInput({ name: 'a', address: 'file:///etc/passwd', eventTypes: ['PUSH_ARTIFACT'] }, true)).toThrow(/http/);
    expect(() => validateInput({ name: 'a', address: 'https://u:p@x.example', eventTypes: ['PUSH_ARTIFACT'] }, true)).toThrow(/credentials/);
    expect(() => validateInput({ name: 'a', address: 'https://x.example', eventTypes: ['PUSHED'] }, true)).toThrow(/PUSHED/);
    expect(() => validateInput({ authHeader: 'a\r\nX-Evil: 1' }, false)).toThrow(/one line/);
    expect(() => validateInput({ secret: 'short' }, false)).toThrow(/8 to 256/);
    expect(validateInput({ authHeader: '', secret: '' }, false)).toEqual({ authHeader: null, secret: null });
  });
});
