/**
 * The unit of work: one function, one database transaction. Every check and the write it guards run inside the same
 * transaction, and the domain events the change produces are written to the outbox in that transaction too, so an
 * event exists if and only if its change committed.
 */
import type { DomainEvent } from './events.js';

export interface TxControl {
  /**
   * Records a domain event. It is written to the outbox (and, when it is audited, to the audit log) just before the
   * transaction commits, in the order published; it is lost with the transaction if that rolls back.
   */
  publish(event: DomainEvent): void;
  /**
   * Serialises this transaction with every other transaction that locks the same key, until commit or rollback
   * (PostgreSQL: a transaction-scoped advisory lock; SQLite: write transactions are already serial).
   */
  lock(key: string): Promise<void>;
}

/** The stores `S`, bound to one transaction, plus its controls. */
export type Tx<S> = S & TxControl;

export interface UnitOfWork<S> {
  /**
   * Runs `fn` in one transaction and commits when it resolves; rolls back and rethrows when it throws. `fn` must use
   * only the stores it is given (a store outside the transaction may wait on the transaction's own lock). `fn` may run
   * more than once when the database asks for a retry (deadlock, serialisation failure), so it must have no effects
   * outside the database.
   */
  transaction<T>(fn: (tx: Tx<S>) => Promise<T>): Promise<T>;
}
