import type { AuditStore } from '../../../domain/audit/audit.js';
import { offsetOf, type PageRequest } from '../../../domain/pagination.js';
import type { Db } from './util.js';

export class KyselyAuditStore implements AuditStore {
  constructor(private readonly db: Db) {}

  async list(q: { actor?: string; action?: string } & PageRequest) {
    let base = this.db.selectFrom('audit_log');
    if (q.actor) base = base.where('actor', '=', q.actor);
    if (q.action) base = base.where('action', '=', q.action);
    const [rows, total] = await Promise.all([
      base.selectAll().orderBy('id', 'desc').limit(q.perPage).offset(offsetOf(q)).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return {
      items: rows.map((r) => ({ id: Number(r.id), at: Number(r.at), actor: r.actor, action: r.action, target: r.target, detail: r.detail, remoteAddr: r.remote_addr })),
      page: q.page,
      perPage: q.perPage,
      total: Number(total.n),
    };
  }
}
