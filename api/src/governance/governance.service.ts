// Governance rules: proposal status from the chain's latest ledger, proposal texts checked against
// their on-chain SHA-256, and the wallet flow — prepare an unsigned invocation for the user's own
// wallet, then relay back only that exact transaction, signed.
import { createHash } from 'node:crypto';
import {
  Address,
  FeeBumpTransaction,
  Keypair,
  TransactionBuilder,
  xdr,
  type Transaction,
} from '@stellar/stellar-sdk';
import type { AppContext } from '../context.ts';
import type { Principal } from '../auth/principal.ts';
import { recordAudit } from '../audit/audit.repository.ts';
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../errors.ts';
import {
  ENTRY_ARCHIVED,
  contractFailure,
  createGovernanceChain,
  type GovernanceChain,
  type Invocation,
} from './governance.chain.ts';
import {
  claimPrepared,
  findDescription,
  findPrepared,
  findProposal,
  findWallet,
  finishPrepared,
  insertPrepared,
  listProposals,
  listVotes,
  saveDescription,
} from './governance.repository.ts';

/** How long a prepared transaction can land (its time bound): long enough to read and sign. */
const TX_TIMEOUT_SECONDS = 300;

type ProposalRow = NonNullable<Awaited<ReturnType<typeof findProposal>>>;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function statusOf(p: ProposalRow, latest: number | null): 'active' | 'closed' | 'executed' {
  if (p.executed) return 'executed';
  if (latest === null) return 'active';
  return latest <= p.end_ledger ? 'active' : 'closed';
}

function shape(p: ProposalRow, latest: number | null) {
  return {
    id: String(p.proposal_id),
    contract_id: p.contract_id,
    proposer: p.proposer,
    title: p.title,
    description_hash: p.description_hash,
    snapshot_ledger: p.snapshot_ledger,
    end_ledger: p.end_ledger,
    created_ledger: p.created_ledger,
    ledgers_left: latest === null ? null : Math.max(0, p.end_ledger - latest),
    votes_for: String(p.votes_for),
    votes_against: String(p.votes_against),
    executed: p.executed,
    status: statusOf(p, latest),
    tx_hash: p.tx_hash,
  };
}

const cursorError = () => badRequest('invalid_cursor', 'The cursor is not one this API returned.', 'cursor');

function decodeProposalCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString();
  if (!/^p:[1-9][0-9]{0,18}$/.test(raw)) throw cursorError();
  return raw.slice(2);
}

function decodeVoteCursor(cursor: string): { ledger: number; voter: string } {
  const m = /^v:(\d{1,10}):(G[A-Z2-7]{55}|C[A-Z2-7]{55})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw cursorError();
  return { ledger: Number(m[1]), voter: m[2]! };
}

const encode = (s: string) => Buffer.from(s).toString('base64url');

/** The one contract call an envelope makes, or null when it is anything else. */
function invocationOf(tx: Transaction): { contractId: string; fn: string; args: xdr.ScVal[] } | null {
  if (tx.operations.length !== 1) return null;
  const op = tx.operations[0]!;
  if (op.type !== 'invokeHostFunction') return null;
  if (op.func.type !== 'hostFunctionTypeInvokeContract') return null;
  const call = op.func.invokeContract;
  try {
    return {
      contractId: Address.fromScAddress(call.contractAddress).toString(),
      fn: call.functionName.toString(),
      args: call.args,
    };
  } catch {
    return null;
  }
}

export function createGovernanceService(
  ctx: AppContext,
  chain: GovernanceChain = createGovernanceChain(ctx.config, ctx.log),
) {
  const { db, log } = ctx;
  const contractId = chain.governanceId;

  async function ownWallet(userId: string): Promise<string> {
    const w = await findWallet(db, userId);
    if (!w) throw notFound('user_not_found', 'No such user.');
    if (w.wallet_kind !== 'external')
      throw forbidden(
        'custodial_wallet',
        'Voting and proposing need your own wallet: your address is a custodial one the platform keeps for you, and governance transactions must be signed by the holder. Link Freighter on your wallet page, then vote with it.',
      );
    return w.stellar_address;
  }

  async function prepare(
    principal: Principal & { kind: 'user' },
    source: string,
    inv: Invocation,
    proposalId: string | null,
    args: Record<string, unknown>,
    description?: { hash: string; body: string },
    requestId?: string,
  ) {
    const tx = await chain.prepare(source, inv, TX_TIMEOUT_SECONDS);
    const txHash = Buffer.from(tx.hash()).toString('hex');
    const maxTime = Number(tx.timeBounds?.maxTime ?? 0);
    const validUntil = new Date(maxTime > 0 ? maxTime * 1000 : Date.now() + TX_TIMEOUT_SECONDS * 1000);
    await db.transaction().execute(async (trx) => {
      if (description) await saveDescription(trx, description.hash, description.body, principal.userId);
      await insertPrepared(trx, {
        txHash,
        userId: principal.userId,
        source,
        action: inv.action,
        contractId: inv.contractId,
        proposalId,
        args,
        validUntil,
      });
      await recordAudit(trx, {
        actor: principal,
        action: `governance.${inv.action}.prepared`,
        targetType: 'governance_transaction',
        targetId: txHash,
        requestId: requestId ?? null,
        data: { ...args, contract_id: inv.contractId },
      });
    });
    return {
      action: inv.action,
      transaction: tx.toXDR(),
      tx_hash: txHash,
      network_passphrase: chain.passphrase,
      valid_until: validUntil.toISOString(),
      ...(description ? { description_hash: description.hash } : {}),
    };
  }

  return {
    async list(limit: number, cursor?: string) {
      const before = cursor ? decodeProposalCursor(cursor) : undefined;
      const [rows, latest] = await Promise.all([
        listProposals(db, contractId, limit + 1, before),
        chain.latestLedger(),
      ]);
      const page = rows.slice(0, limit);
      return {
        proposals: page.map((p) => shape(p, latest)),
        latest_ledger: latest,
        next_cursor: rows.length > limit ? encode(`p:${page.at(-1)!.proposal_id}`) : null,
      };
    },

    async get(id: string, limit: number, cursor?: string) {
      const after = cursor ? decodeVoteCursor(cursor) : undefined;
      const p = await findProposal(db, contractId, id);
      if (!p) throw notFound('proposal_not_found', `No proposal ${id} has been seen on chain.`);
      const [votes, text, latest] = await Promise.all([
        listVotes(db, p.contract_id, id, limit + 1, after),
        findDescription(db, p.description_hash),
        chain.latestLedger(),
      ]);
      const page = votes.slice(0, limit);
      const last = page.at(-1);
      const proposal = shape(p, latest);
      return {
        proposal,
        outcome:
          proposal.status === 'executed'
            ? ('succeeded' as const)
            : proposal.status === 'closed'
              ? await chain.outcome(id)
              : null,
        // The database only holds texts whose SHA-256 is their key; hash again to be sure.
        description:
          text && sha256Hex(text.body) === p.description_hash
            ? { text: text.body, sha256: p.description_hash }
            : null,
        votes: page.map((v) => ({
          voter: v.voter,
          support: v.support,
          weight: String(v.weight),
          ledger: v.ledger,
        })),
        votes_next_cursor: votes.length > limit && last ? encode(`v:${last.ledger}:${last.voter}`) : null,
        latest_ledger: latest,
      };
    },

    async me(userId: string) {
      const w = await findWallet(db, userId);
      if (!w) throw notFound('user_not_found', 'No such user.');
      const own = w.wallet_kind === 'external';
      let power: { votes: string; delegate: string | null } | null = null;
      if (own && chain.configured) {
        try {
          power = await chain.votingPower(w.stellar_address);
        } catch (e) {
          log.warn({ err: (e as Error).message }, 'governance: voting power unavailable');
        }
      }
      return {
        address: w.stellar_address,
        wallet_kind: w.wallet_kind,
        can_sign: own,
        votes: power?.votes ?? null,
        delegate: power?.delegate ?? null,
        needs_delegation: own && power !== null && power.delegate === null,
        network_passphrase: chain.passphrase,
      };
    },

    async prepareVote(
      principal: Principal & { kind: 'user' },
      id: string,
      support: boolean,
      requestId?: string,
    ) {
      const source = await ownWallet(principal.userId);
      return prepare(
        principal,
        source,
        chain.vote(source, id, support),
        id,
        { proposal_id: id, support },
        undefined,
        requestId,
      );
    },

    async preparePropose(
      principal: Principal & { kind: 'user' },
      body: { title: string; description: string; voting_period: number },
      requestId?: string,
    ) {
      const title = body.title.trim();
      if (!title) throw badRequest('invalid_title', 'The title is empty.', 'title');
      if (Buffer.byteLength(title, 'utf8') > 128)
        throw badRequest('invalid_title', 'The title is longer than 128 bytes.', 'title');
      if (!body.description.trim())
        throw badRequest('invalid_description', 'The description is empty.', 'description');
      const source = await ownWallet(principal.userId);
      const hash = sha256Hex(body.description);
      return prepare(
        principal,
        source,
        chain.propose(source, title, hash, body.voting_period),
        null,
        { title, description_hash: hash, voting_period: body.voting_period },
        { hash, body: body.description },
        requestId,
      );
    },

    /**
     * Prepare executing a proposal. The contract lets anyone execute once voting closed with
     * quorum and majority; simulation refuses the rest (still open, defeated, already executed)
     * before anything is stored.
     */
    async prepareExecute(principal: Principal & { kind: 'user' }, id: string, requestId?: string) {
      const source = await ownWallet(principal.userId);
      return prepare(principal, source, chain.execute(id), id, { proposal_id: id }, undefined, requestId);
    },

    async prepareDelegate(principal: Principal & { kind: 'user' }, requestId?: string) {
      const source = await ownWallet(principal.userId);
      return prepare(
        principal,
        source,
        chain.delegateToSelf(source),
        null,
        { delegatee: source },
        undefined,
        requestId,
      );
    },

    /**
     * Relays a signed envelope: it must be one this API prepared for this user (same hash, so
     * the same contract, function, arguments, source, fee and time bounds), signed by its source.
     */
    async relay(principal: Principal & { kind: 'user' }, envelope: string, requestId?: string) {
      const source = await ownWallet(principal.userId);
      let parsed: Transaction | FeeBumpTransaction;
      try {
        parsed = TransactionBuilder.fromXDR(envelope, chain.passphrase);
      } catch {
        throw badRequest(
          'invalid_transaction',
          'The transaction is not a base64 XDR envelope.',
          'transaction',
        );
      }
      if (parsed instanceof FeeBumpTransaction)
        throw unprocessable(
          'unexpected_transaction',
          'Send the transaction as prepared, not wrapped in a fee bump.',
          'transaction',
        );
      const tx = parsed;
      const call = invocationOf(tx);
      const allowed =
        call &&
        ((call.contractId === chain.governanceId &&
          (call.fn === 'vote' || call.fn === 'propose' || call.fn === 'execute')) ||
          (call.contractId === chain.tokenId && call.fn === 'delegate'));
      if (!call || !allowed)
        throw unprocessable(
          'unexpected_transaction',
          'This is not a governance transaction this API prepares (one call to vote, propose or execute on the governance contract, or delegate on the token).',
          'transaction',
        );
      if (tx.source !== source)
        throw unprocessable(
          'unexpected_transaction',
          'The transaction’s source is not your wallet.',
          'transaction',
        );
      const txHash = Buffer.from(tx.hash()).toString('hex');
      const row = await findPrepared(db, txHash);
      if (!row || row.user_id !== principal.userId)
        throw unprocessable(
          'transaction_not_prepared',
          'This transaction differs from the one prepared for you (it was changed after preparing). Start again from the proposal page.',
          'transaction',
        );
      const key = Keypair.fromPublicKey(source);
      const signed = tx.signatures.some((s) => key.verify(tx.hash(), s.signature));
      if (!signed)
        throw badRequest('invalid_signature', 'The transaction is not signed by your wallet.', 'transaction');
      const action = row.action as 'vote' | 'propose' | 'execute' | 'delegate';
      if (row.status === 'success' || row.status === 'failed')
        return {
          action,
          tx_hash: txHash,
          status: row.status,
          ledger: row.ledger,
          error: row.error,
          error_code: row.status === 'failed' ? 'transaction_failed' : null,
        };
      if (row.status === 'prepared' && row.valid_until.getTime() < Date.now())
        throw conflict(
          'transaction_expired',
          'This transaction’s time to land has passed. Prepare it again.',
        );
      // A second relay of a submitted envelope resends identical bytes, which cannot apply twice.
      if (row.status === 'prepared') await claimPrepared(db, txHash, principal.userId);
      const out = await chain.send(tx);
      let error: string | null = null;
      let errorCode: string | null = null;
      if (out.status === 'failed' && out.error) {
        if (out.error === ENTRY_ARCHIVED) {
          // Rare on a real network (entries live for days), frequent on a fast local chain.
          errorCode = 'state_archived';
          error =
            'Part of the contract state this transaction reads expired while it was being signed. Prepare it again: the new one restores that state.';
        } else {
          const e = /Error\(Contract, #\d+\)/.test(out.error) ? contractFailure(out.error) : null;
          errorCode = e?.code ?? 'transaction_failed';
          error = e && e.status === 409 ? e.message : `The network rejected it (${out.error}).`;
        }
      }
      if (out.status !== 'pending') {
        await db.transaction().execute(async (trx) => {
          await finishPrepared(trx, txHash, out.status as 'success' | 'failed', out.ledger, error);
          await recordAudit(trx, {
            actor: principal,
            action: `governance.${action}.${out.status}`,
            targetType: 'governance_transaction',
            targetId: txHash,
            requestId: requestId ?? null,
            data: { ledger: out.ledger, error },
          });
        });
      }
      return {
        action,
        tx_hash: txHash,
        status: out.status,
        ledger: out.ledger,
        error,
        error_code: errorCode,
      };
    },
  };
}

export type GovernanceService = ReturnType<typeof createGovernanceService>;
