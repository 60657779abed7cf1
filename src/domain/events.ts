/**
 * Domain events, published in-process after a write has committed. The audit log is the first subscriber;
 * webhooks, replication and scanning subscribe to the same bus. A failing subscriber never fails the write.
 */
export interface Actor {
  /** user id, or null for the system */
  userId: string | null;
  username: string | null;
  /** client address the request came from */
  remoteAddr?: string | null;
}

interface Base {
  at: number;
  actor: Actor;
}

export type DomainEvent =
  | (Base & { type: 'RegistryCreated' | 'RegistryDeleted'; registry: string })
  | (Base & { type: 'ImageDeleted'; repository: string })
  | (Base & { type: 'ArtifactPushed'; repository: string; digest: string; mediaType: string; size: number; tag?: string })
  | (Base & { type: 'ArtifactPulled'; repository: string; digest: string; tag?: string })
  | (Base & { type: 'ArtifactDeleted'; repository: string; digest: string })
  | (Base & { type: 'TagCreated' | 'TagDeleted'; repository: string; tag: string; digest: string })
  | (Base & { type: 'BlobUploaded' | 'BlobMounted' | 'BlobDeleted'; repository: string; digest: string; size?: number })
  | (Base & { type: 'UserCreated' | 'UserUpdated' | 'UserDeleted'; username: string; role?: string })
  | (Base & { type: 'PasswordChanged'; username: string })
  | (Base & { type: 'AccessKeyCreated' | 'AccessKeyRegenerated' | 'AccessKeyDeleted'; username: string; accessKey: string });

export type DomainEventType = DomainEvent['type'];
export type Subscriber = (event: DomainEvent) => void | Promise<void>;

export class EventBus {
  private readonly subscribers: { types: Set<DomainEventType> | null; fn: Subscriber }[] = [];
  constructor(private readonly onSubscriberError: (err: unknown, event: DomainEvent) => void = () => undefined) {}

  /** Subscribes to the given event types (all when none are given). */
  subscribe(fn: Subscriber, types?: DomainEventType[]): () => void {
    const entry = { types: types ? new Set(types) : null, fn };
    this.subscribers.push(entry);
    return () => {
      const i = this.subscribers.indexOf(entry);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }

  /** Delivers to every subscriber; errors are reported, never thrown to the publisher. */
  publish(event: DomainEvent): void {
    for (const s of this.subscribers) {
      if (s.types && !s.types.has(event.type)) continue;
      try {
        const r = s.fn(event);
        if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => this.onSubscriberError(err, event));
      } catch (err) {
        this.onSubscriberError(err, event);
      }
    }
  }
}
