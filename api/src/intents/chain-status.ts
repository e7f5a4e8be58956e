// What a learner sees of an intent: pending, submitted, confirmed on chain, or failed.
import type { IntentRow } from './intents.repository.ts';

export type ChainStatus = 'pending' | 'submitted' | 'confirmed' | 'failed';

export function chainStatusOf(intent: Pick<IntentRow, 'status'> | undefined): ChainStatus | null {
  switch (intent?.status) {
    case 'pending':
    case 'submitting':
      return 'pending';
    case 'submitted':
      return 'submitted';
    case 'confirmed':
      return 'confirmed';
    case 'failed':
      return 'failed';
    default:
      return null;
  }
}

export interface ChainState {
  status: ChainStatus;
  tx_hash: string | null;
  ledger: number | null;
  updated_at: string;
}

export function chainStateOf(intent: IntentRow | undefined): ChainState | null {
  const status = chainStatusOf(intent);
  if (!intent || !status) return null;
  return {
    status,
    tx_hash: status === 'pending' ? null : intent.tx_hash,
    ledger: intent.confirmed_ledger,
    updated_at: intent.updated_at.toISOString(),
  };
}

/** The progress intent that speaks for a course: the highest percent that was not superseded. */
export function latestProgressIntent(intents: readonly IntentRow[]): IntentRow | undefined {
  let best: IntentRow | undefined;
  for (const i of intents) {
    if (i.kind !== 'record_progress' || i.status === 'superseded') continue;
    const p = Number((i.args as { percent?: number }).percent ?? 0);
    const bp = best ? Number((best.args as { percent?: number }).percent ?? 0) : -1;
    if (p > bp) best = i;
  }
  return best;
}
