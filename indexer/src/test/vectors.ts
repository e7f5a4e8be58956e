// The events the real Soroban host emitted in the contract scenarios (contracts/vectors), as the
// ingest loop would hand them to projectPage: one ledger per scenario file, TOID event ids.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvent } from '../decode/index.ts';
import type { ContractKind } from '../decode/spec.ts';
import type { ChainEvent } from '../project/project.ts';
import type { RpcEventWire } from '../rpc/rpc.client.ts';
import { repoRoot } from './harness.ts';

/** The events of the scenario files whose names start with one of `prefixes`, in chain order. */
export function vectorEvents(prefixes: readonly string[]): ChainEvent[] {
  const dir = join(repoRoot, 'contracts/vectors');
  const out: ChainEvent[] = [];
  // Chain order where scenarios build on each other: a proposal is created, voted, executed.
  const rank = (f: string) =>
    ['governance_propose', 'governance_vote', 'governance_execute'].findIndex((p) => f.startsWith(p));
  const files = readdirSync(dir)
    .filter((f) => prefixes.some((p) => f.startsWith(p)))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  files.forEach((file, fi) => {
    const kind = file.split('_')[0] as ContractKind;
    const scenario = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      events: { contract: string; topics: string[]; value: string }[];
    };
    scenario.events.forEach((v, i) => {
      const ledger = 100 + fi;
      const toid = ((BigInt(ledger) << 32n) | (1n << 12n)).toString().padStart(19, '0');
      out.push({
        id: `${toid}-${String(i).padStart(10, '0')}`,
        ledger,
        ledgerClosedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, fi)).toISOString(),
        contractId: v.contract,
        kind,
        txHash: Buffer.from(file.padEnd(32, '.')).toString('hex').slice(0, 64),
        topicsXdr: v.topics,
        valueXdr: v.value,
        decoded: decodeEvent(kind, v.topics, v.value),
      });
    });
  });
  return out;
}

/** The events as getEvents serves them (what the page builder reads), and each contract's kind. */
export function asRpcPage(events: readonly ChainEvent[]): {
  wire: RpcEventWire[];
  kinds: Map<string, ContractKind>;
} {
  const wire = events.map((e) => ({
    type: 'contract',
    ledger: e.ledger,
    ledgerClosedAt: e.ledgerClosedAt,
    contractId: e.contractId,
    id: e.id,
    txHash: e.txHash,
    topic: e.topicsXdr,
    value: e.valueXdr,
  }));
  return { wire, kinds: new Map(events.map((e) => [e.contractId, e.kind])) };
}
