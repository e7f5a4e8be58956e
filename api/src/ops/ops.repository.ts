// SQL for the operators' views: the indexer's self-reported state.
import type { Db } from '../audit/audit.repository.ts';

export async function findIndexerState(db: Db) {
  return db.selectFrom('indexer_state').selectAll().executeTakeFirst();
}
