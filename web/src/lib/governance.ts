// Governance as the site shows it: the API's proposal shapes and small pure helpers.

export interface Proposal {
  id: string;
  contract_id: string;
  proposer: string;
  title: string;
  description_hash: string;
  snapshot_ledger: number;
  end_ledger: number;
  created_ledger: number;
  ledgers_left: number | null;
  votes_for: string;
  votes_against: string;
  executed: boolean;
  status: 'active' | 'closed' | 'executed';
  tx_hash: string;
}

export interface Vote {
  voter: string;
  support: boolean;
  weight: string;
  ledger: number;
}

export interface GovernanceMe {
  address: string;
  wallet_kind: 'custodial' | 'external';
  can_sign: boolean;
  votes: string | null;
  delegate: string | null;
  needs_delegation: boolean;
  network_passphrase: string;
}

export const STATUS_LABEL: Record<Proposal['status'], string> = {
  active: 'Voting open',
  closed: 'Voting closed',
  executed: 'Executed',
};

/** Share of the votes cast that are for, in whole percent (0 when nobody voted). */
export function forShare(p: Pick<Proposal, 'votes_for' | 'votes_against'>): number {
  const f = BigInt(p.votes_for);
  const total = f + BigInt(p.votes_against);
  return total === 0n ? 0 : Number((f * 100n) / total);
}

/** "about 3 hours" for a number of ledgers (Stellar closes one about every 5 s). */
export function ledgersAsTime(ledgers: number): string {
  const s = ledgers * 5;
  if (s < 90) return `about ${Math.max(1, Math.round(s))} seconds`;
  if (s < 90 * 60) return `about ${Math.round(s / 60)} minutes`;
  if (s < 36 * 3600) return `about ${Math.round(s / 3600)} hours`;
  return `about ${Math.round(s / 86400)} days`;
}
