// What each intent kind calls on chain, and which contract errors mean "the chain already has
// this" (a duplicate that is confirmed, never failed). Args are chain-ready (see 0003 intents).
import { Address, nativeToScVal, type xdr } from '@stellar/stellar-sdk';
import type { ContractKind } from '../decode/spec.ts';

export type IntentKind = 'record_progress' | 'issue_certificate' | 'mint_reward' | 'revoke_certificate';

export interface ContractCall {
  contract: ContractKind;
  method: string;
  args: xdr.ScVal[];
}

/** Contract error codes that mean the effect is already on chain (contracts' documented ranges). */
export const SATISFIED_ERRORS: Record<IntentKind, number[]> = {
  // ProgressRegressed: a higher percent is already recorded.
  record_progress: [21],
  // AlreadyIssued: one certificate per learner and course.
  issue_certificate: [60],
  // AlreadyRevoked.
  revoke_certificate: [62],
  mint_reward: [],
};

/** The errors of the contracts the submitter calls (a test keeps this in step with their enums). */
export const CONTRACT_ERRORS: Record<number, string> = {
  1: 'MissingRole',
  2: 'Reentered',
  3: 'AmountNotPositive',
  4: 'EmptyText',
  5: 'TextTooLong',
  6: 'Unsupported',
  20: 'PercentOutOfRange',
  21: 'ProgressRegressed',
  40: 'EmptyReason',
  60: 'AlreadyIssued',
  61: 'NotFound',
  62: 'AlreadyRevoked',
  63: 'Soulbound',
  64: 'IdOverflow',
  // OpenZeppelin's fungible token and votes (mint_reward past the i128 range).
  104: 'MathOverflow',
  4101: 'MathOverflow',
};

/** "Error(Contract, #60)" in a host error → 60. */
export function contractErrorCode(message: string): number | null {
  const m = /Error\(Contract, #(\d+)\)/.exec(message);
  return m ? Number(m[1]) : null;
}

export function describeContractError(code: number): string {
  return `contract error #${code}${CONTRACT_ERRORS[code] ? ` (${CONTRACT_ERRORS[code]})` : ''}`;
}

const addr = (s: unknown) => nativeToScVal(Address.fromString(String(s)), { type: 'address' });
const bytes = (hex: unknown, n: number) => {
  const b = Buffer.from(String(hex), 'hex');
  if (b.length !== n) throw new Error(`expected ${n} bytes of hex, got ${String(hex)}`);
  return nativeToScVal(b, { type: 'bytes' });
};

export class NotReadyError extends Error {}

export function buildCall(kind: IntentKind, args: Record<string, unknown>, platform: string): ContractCall {
  switch (kind) {
    case 'record_progress':
      return {
        contract: 'analytics',
        method: 'record_progress',
        args: [
          addr(platform),
          addr(args.student),
          bytes(args.course_id, 16),
          nativeToScVal(Number(args.percent), { type: 'u32' }),
        ],
      };
    case 'issue_certificate':
      return {
        contract: 'certificate',
        method: 'issue_credential',
        args: [addr(platform), addr(args.student), bytes(args.course_id, 16), bytes(args.metadata_hash, 32)],
      };
    case 'mint_reward':
      return {
        contract: 'token',
        method: 'mint_reward',
        args: [
          addr(platform),
          addr(args.to),
          nativeToScVal(BigInt(String(args.amount)), { type: 'i128' }),
          nativeToScVal(String(args.reason), { type: 'symbol' }),
        ],
      };
    case 'revoke_certificate':
      if (args.chain_certificate_id === null || args.chain_certificate_id === undefined)
        throw new NotReadyError('the certificate is not issued on chain yet');
      return {
        contract: 'certificate',
        method: 'revoke',
        args: [
          addr(platform),
          nativeToScVal(BigInt(String(args.chain_certificate_id)), { type: 'u64' }),
          nativeToScVal(String(args.reason), { type: 'string' }),
        ],
      };
  }
}
