import Type from 'typebox';
import { ChainStatusSchema } from './learning.ts';

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const BaseUnits = Type.String({ pattern: '^-?[0-9]+$', description: 'BST in base units (7 decimals)' });

export const RewardsSchema = Type.Object({
  decimals: Type.Integer(),
  balance: BaseUnits,
  balance_display: Type.String(),
  addresses: Type.Array(
    Type.Object({
      address: Type.String(),
      kind: Type.Union([Type.Literal('current'), Type.Literal('custodial')]),
      balance: BaseUnits,
    }),
  ),
  pending: Type.Array(
    Type.Object({
      intent_id: Type.String(),
      amount: BaseUnits,
      reason: Nullable(Type.String()),
      status: ChainStatusSchema,
      created_at: Type.String({ format: 'date-time' }),
    }),
  ),
  history: Type.Array(
    Type.Object({
      event_id: Type.String(),
      kind: Type.String(),
      direction: Type.Union([Type.Literal('in'), Type.Literal('out'), Type.Literal('self')]),
      amount: BaseUnits,
      amount_display: Type.String(),
      reason: Nullable(Type.String()),
      from: Nullable(Type.String()),
      to: Nullable(Type.String()),
      ledger: Type.Integer(),
      ledger_closed_at: Type.String({ format: 'date-time' }),
      tx_hash: Type.String(),
    }),
  ),
  next_cursor: Nullable(Type.String()),
});
