/** The outbox contract: what every capability may rely on, on every database. */
import { expect, it } from 'vitest';
import type { StoredEvent } from '../../src/domain/events.js';
import { perTest, pushed, type Harness } from './foundation-harness.js';

export function outboxContract(open: () => Promise<Harness>) {
  const harness = perTest(open);
  const withHarness = harness.each;
  // the harness of the running test
  const h = new Proxy({} as Harness, { get: (_t, k) => Reflect.get(harness.h(), k) });

  const seen = (events: StoredEvent[]) => events.map((e) => (e.event as { size: number }).size);

  it('writes events only when their transaction commits, in commit order', withHarness(async () => {
    const a = await h.node();
    await a.publish(pushed(h.clock, 'r', 1));
    await a.uow
      .transaction(async (tx) => {
        tx.publish(pushed(h.clock, 'r', 2));
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await a.publish(pushed(h.clock, 'r', 3));
    const stored = await a.outboxStore.after(0, 100);
    expect(seen(stored)).toEqual([1, 3]);
    expect(stored[0].seq).toBeLessThan(stored[1].seq);
    expect(new Set(stored.map((e) => e.id)).size).toBe(2);
  }));

  it('one transaction can publish thousands of events (a second of pulls), all stored in order', withHarness(async () => {
    const a = await h.node();
    await a.uow.transaction(async (tx) => {
      for (let i = 1; i <= 6000; i++) tx.publish(pushed(h.clock, 'r', i));
    });
    const stored = [];
    for (let cursor = 0; ; ) {
      const page = await a.outboxStore.after(cursor, 1000);
      if (page.length === 0) break;
      stored.push(...page);
      cursor = page[page.length - 1].seq;
    }
    expect(seen(stored)).toEqual(Array.from({ length: 6000 }, (_, i) => i + 1));
  }));

  it('a subscriber of some types gets only those, and its cursor moves past the rest', withHarness(async () => {
    const a = await h.node();
    const got: string[] = [];
    a.dispatcher.subscribe('t.typed', (e) => void got.push(e.event.type), { types: ['ArtifactDeleted'] });
    await a.dispatcher.start();
    await a.uow.transaction(async (tx) => {
      for (let i = 1; i <= 450; i++) tx.publish(pushed(h.clock, 'r', i));
      tx.publish({ type: 'ArtifactDeleted', at: h.clock.now(), actor: { userId: null, username: 'system' }, repository: 'r/app', digest: `sha256:${'9'.repeat(64)}` });
      for (let i = 451; i <= 500; i++) tx.publish(pushed(h.clock, 'r', i));
    });
    await a.dispatcher.drain();
    expect(got).toEqual(['ArtifactDeleted']);
    const latest = await a.outboxStore.latestSeq();
    expect(await a.outboxStore.lease('t.typed', 'other-owner', h.clock.now() + 60_000, h.clock.now() + 90_000)).toBe(latest);
  }));

  it('delivers each event once to a durable subscriber, in order, and resumes from its cursor after a restart', withHarness(async () => {
    const a = await h.node();
    const got: number[] = [];
    a.dispatcher.subscribe('t.sub', (e) => void got.push((e.event as { size: number }).size));
    await a.dispatcher.start();
    for (let i = 1; i <= 5; i++) await a.publish(pushed(h.clock, 'r', i));
    await a.dispatcher.drain();
    await a.dispatcher.drain();
    expect(got).toEqual([1, 2, 3, 4, 5]);
    await a.dispatcher.stop();
    // the same subscriber on a new node (a restart): only what came after
    for (let i = 6; i <= 7; i++) await a.publish(pushed(h.clock, 'r', i));
    const b = await h.node();
    const later: number[] = [];
    b.dispatcher.subscribe('t.sub', (e) => void later.push((e.event as { size: number }).size));
    await b.dispatcher.start();
    await b.dispatcher.drain();
    expect(later).toEqual([6, 7]);
  }));

  it('parks a failing event and retries it with backoff; later events of its registry wait, other registries go on', withHarness(async () => {
    const a = await h.node();
    const got: string[] = [];
    let failures = 2;
    a.dispatcher.subscribe(
      't.retry',
      (e) => {
        const ev = e.event as { repository: string; size: number };
        if (ev.size === 2 && failures > 0) {
          failures--;
          throw new Error('receiver down');
        }
        got.push(`${ev.repository.split('/')[0]}${ev.size}`);
      },
      { backoffMs: 1000 },
    );
    await a.dispatcher.start();
    await a.publish(pushed(h.clock, 'x', 1));
    await a.publish(pushed(h.clock, 'x', 2));
    await a.publish(pushed(h.clock, 'x', 3));
    await a.publish(pushed(h.clock, 'y', 4));
    await a.dispatcher.drain();
    expect(got).toEqual(['x1', 'y4']);
    const parked = await a.outboxStore.parked('t.retry');
    expect(parked.map((p) => p.attempts)).toEqual([1, 0]);
    await a.dispatcher.drain(); // not due yet: nothing moves
    expect(got).toEqual(['x1', 'y4']);
    h.clock.advance(1000);
    await a.dispatcher.drain(); // second attempt fails: next in 2 s
    expect(got).toEqual(['x1', 'y4']);
    h.clock.advance(2000);
    await a.dispatcher.drain();
    await a.dispatcher.drain();
    expect(got).toEqual(['x1', 'y4', 'x2', 'x3']);
    expect(await a.outboxStore.parked('t.retry')).toEqual([]);
    expect(a.errors.length).toBe(2);
  }));

  it('gives an event up after maxAttempts (dead), which unblocks its registry', withHarness(async () => {
    const a = await h.node();
    const got: number[] = [];
    a.dispatcher.subscribe(
      't.dead',
      (e) => {
        const size = (e.event as { size: number }).size;
        if (size === 1) throw new Error('always fails');
        got.push(size);
      },
      { maxAttempts: 2, backoffMs: 10 },
    );
    await a.dispatcher.start();
    await a.publish(pushed(h.clock, 'x', 1));
    await a.publish(pushed(h.clock, 'x', 2));
    await a.dispatcher.drain();
    h.clock.advance(10);
    await a.dispatcher.drain();
    await a.dispatcher.drain();
    expect(got).toEqual([2]);
    expect(await a.outboxStore.parked('t.dead')).toEqual([]);
  }));

  it('two nodes with the same subscriber deliver every event exactly once; a dead node lease is taken over', withHarness(async () => {
    const a = await h.node();
    const b = await h.node();
    const got: number[] = [];
    for (const n of [a, b]) n.dispatcher.subscribe('t.shared', (e) => void got.push((e.event as { size: number }).size));
    await a.dispatcher.start();
    await b.dispatcher.start();
    for (let i = 1; i <= 20; i++) await (i % 2 ? a : b).publish(pushed(h.clock, `r${i % 3}`, i));
    await Promise.all([a.dispatcher.drain(), b.dispatcher.drain()]);
    await Promise.all([a.dispatcher.drain(), b.dispatcher.drain()]);
    expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // one owner at a time. Both nodes stop (their loops would otherwise race this test for the lease on the shared
    // clock) and give the lease back: a third owner takes it, and no other can while it is live
    await a.dispatcher.stop();
    await b.dispatcher.stop();
    const now = h.clock.now();
    expect(await a.outboxStore.lease('t.shared', 'node-c', now, now + 30_000)).toBe(Math.max(...(await a.outboxStore.after(0, 100)).map((e) => e.seq)));
    expect(await a.outboxStore.lease('t.shared', 'node-x', now, now + 30_000)).toBeUndefined();
    // node-c "died" holding it: once it lapses, another node delivers what came since, exactly once
    const d = await h.node();
    d.dispatcher.subscribe('t.shared', (e) => void got.push((e.event as { size: number }).size));
    await d.dispatcher.start();
    h.clock.advance(31_000);
    await d.publish(pushed(h.clock, 'r', 21));
    await d.dispatcher.drain();
    await d.dispatcher.drain();
    expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  }));

  it("every node's listeners hear every committed event, also those committed by another node", withHarness(async () => {
    const a = await h.node();
    const b = await h.node();
    const heardByB: number[] = [];
    b.dispatcher.on((e) => void heardByB.push((e.event as { size: number }).size), ['ArtifactPushed']);
    await a.dispatcher.start();
    await b.dispatcher.start();
    await a.publish(pushed(h.clock, 'r', 1));
    await b.dispatcher.drain();
    expect(heardByB).toEqual([1]);
  }));

  it('purges old events only once every subscriber has passed them', withHarness(async () => {
    const a = await h.node();
    a.dispatcher.subscribe('t.fast', () => undefined);
    a.dispatcher.subscribe('t.slow', (e) => {
      if ((e.event as { size: number }).size >= 2) throw new Error('stuck');
    }, { backoffMs: 3600_000 });
    await a.dispatcher.start();
    for (let i = 1; i <= 3; i++) await a.publish(pushed(h.clock, 'r', i));
    await a.dispatcher.drain();
    h.clock.advance(86_400_000);
    const purged = await a.outboxStore.purge(h.clock.now());
    // event 1 is past every cursor and parked list; 2 (parked for t.slow) and 3 (waiting behind it) are kept
    expect(purged).toBe(1);
    expect(seen(await a.outboxStore.after(0, 10))).toEqual([2, 3]);
  }));
}
