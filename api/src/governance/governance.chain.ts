// The governance contract and the BST token as the API reaches them through Stellar RPC: builds
// the unsigned, simulated and assembled invocations wallet holders sign, reads voting power, and
// relays signed envelopes. The wallet's account is the source, so its envelope signature is the
// only authorisation the contract call needs (source-account auth).
import {
  Account,
  Address,
  Contract,
  Keypair,
  TransactionBuilder,
  nativeToScVal,
  rpc,
  scValToNative,
  xdr,
  type Transaction,
} from '@stellar/stellar-sdk';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { AppError, conflict } from '../errors.ts';

export type GovernanceAction = 'vote' | 'propose' | 'execute' | 'delegate';

export interface Invocation {
  action: GovernanceAction;
  contractId: string;
  fn: GovernanceAction;
  args: xdr.ScVal[];
}

/** Contract errors a voter can act on (contracts/governance, OpenZeppelin votes). */
const CONTRACT_ERRORS: Record<number, { code: string; message: string }> = {
  4: { code: 'empty_title', message: 'The title is empty.' },
  5: { code: 'title_too_long', message: 'The title is longer than 128 bytes.' },
  81: { code: 'invalid_voting_period', message: 'The voting period is outside what the contract allows.' },
  82: {
    code: 'below_proposal_threshold',
    message: 'You need more BST votes to make a proposal.',
  },
  83: { code: 'proposal_not_found', message: 'The contract has no proposal with this id.' },
  84: { code: 'voting_closed', message: 'Voting on this proposal is over.' },
  85: { code: 'already_voted', message: 'This wallet already voted on this proposal.' },
  86: {
    code: 'no_voting_power',
    message:
      'This wallet had no BST votes when the proposal opened. Votes count from the ledger before a proposal is created, once you have delegated your BST to yourself.',
  },
  87: {
    code: 'voting_not_ended',
    message: 'Voting on this proposal is still open: it can be executed once voting closes, if it passed.',
  },
  88: { code: 'already_executed', message: 'This proposal was already executed.' },
  89: {
    code: 'quorum_not_reached',
    message:
      'This proposal was defeated: too few votes were cast to reach the quorum, so it cannot be executed.',
  },
  90: {
    code: 'majority_not_reached',
    message:
      'This proposal was defeated: the votes for did not reach the majority, so it cannot be executed.',
  },
  4103: { code: 'already_delegated', message: 'Your votes are already delegated to yourself.' },
};

export class ChainUnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'chain_unavailable', message);
  }
}

/** Maps a failed simulation (or transaction) to what the user can do about it. */
export function contractFailure(error: string): AppError {
  const m = /Error\(Contract, #(\d+)\)/.exec(error);
  const known = m ? CONTRACT_ERRORS[Number(m[1])] : undefined;
  if (known) return conflict(known.code, known.message);
  return new AppError(
    422,
    'simulation_failed',
    m ? `The contract refused the call (error #${m[1]}).` : 'The network refused the call.',
  );
}

/** The contract error code a failed invocation's diagnostic events carry, if any. */
function contractErrorCode(events: xdr.DiagnosticEvent[]): number | null {
  for (const d of events) {
    const body = d.event.body;
    if (body.type !== 'v0') continue;
    for (const v of [...body.v0.topics, body.v0.data]) {
      if (v.type === 'scvError' && v.error.type === 'sceContract') return v.error.contractCode;
    }
  }
  return null;
}

/** A failure marker: state the call reads archived between simulation and apply. */
export const ENTRY_ARCHIVED = 'entry_archived';

/** INVOKE_HOST_FUNCTION_ENTRY_ARCHIVED (-4) as the operation's result. */
function entryArchived(result: xdr.TransactionResult): boolean {
  const wire = result.toXdrObject() as {
    result?: { results?: { tr?: { invokeHostFunctionResult?: { code?: number } } }[] };
  };
  return wire.result?.results?.[0]?.tr?.invokeHostFunctionResult?.code === -4;
}

export function createGovernanceChain(config: Readonly<Config>, log?: Logger) {
  const url = config.STELLAR_RPC_URL;
  const passphrase = config.STELLAR_NETWORK_PASSPHRASE;
  const server = url ? new rpc.Server(url, { allowHttp: url.startsWith('http://') }) : null;
  let latest: { at: number; sequence: number } | null = null;

  function rpcServer(): rpc.Server {
    if (!server || !config.GOVERNANCE_CONTRACT_ID || !config.TOKEN_CONTRACT_ID)
      throw new ChainUnavailableError('Governance is not configured on this server (RPC and contract ids).');
    return server;
  }

  async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof AppError) throw e;
      log?.warn({ err: (e as Error).message, what }, 'governance: RPC call failed');
      throw new ChainUnavailableError(`The Stellar RPC did not answer (${what}); try again shortly.`);
    }
  }

  async function simulateRead(source: string, contractId: string, fn: string, args: xdr.ScVal[]) {
    const s = rpcServer();
    const tx = new TransactionBuilder(new Account(source, '0'), { fee: '100', networkPassphrase: passphrase })
      .addOperation(new Contract(contractId).call(fn, ...args))
      .setTimeout(30)
      .build();
    const sim = await guarded('simulate', () => s.simulateTransaction(tx));
    if (rpc.Api.isSimulationError(sim)) throw contractFailure(sim.error);
    return sim.result?.retval;
  }

  return {
    passphrase,
    configured: Boolean(server && config.GOVERNANCE_CONTRACT_ID && config.TOKEN_CONTRACT_ID),
    governanceId: config.GOVERNANCE_CONTRACT_ID,
    tokenId: config.TOKEN_CONTRACT_ID,

    /** The chain's latest ledger, reused for two seconds (status of every listed proposal). */
    async latestLedger(): Promise<number | null> {
      if (!server) return null;
      if (latest && Date.now() - latest.at < 2000) return latest.sequence;
      try {
        const l = await server.getLatestLedger();
        latest = { at: Date.now(), sequence: l.sequence };
        return l.sequence;
      } catch {
        return latest?.sequence ?? null;
      }
    },

    /** Current BST votes of `address` and whom it delegates to (null: nobody yet). */
    async votingPower(address: string): Promise<{ votes: string; delegate: string | null }> {
      const who = new Address(address).toScVal();
      const [votes, delegate] = await Promise.all([
        simulateRead(address, config.TOKEN_CONTRACT_ID, 'get_votes', [who]),
        simulateRead(address, config.TOKEN_CONTRACT_ID, 'get_delegate', [who]),
      ]);
      const d = delegate ? (scValToNative(delegate) as string | null | undefined) : null;
      return { votes: votes ? String(scValToNative(votes)) : '0', delegate: d ?? null };
    },

    /**
     * The contract's verdict on a proposal whose voting closed: succeeded (quorum and majority
     * reached, so anyone may execute it) or defeated. Null when the chain cannot say.
     */
    async outcome(proposalId: string): Promise<'succeeded' | 'defeated' | null> {
      if (!server || !config.GOVERNANCE_CONTRACT_ID) return null;
      try {
        const v = await simulateRead(Keypair.random().publicKey(), config.GOVERNANCE_CONTRACT_ID, 'state', [
          nativeToScVal(BigInt(proposalId), { type: 'u64' }),
        ]);
        const state = v ? Number(scValToNative(v)) : NaN;
        return state === 2 || state === 3 ? 'succeeded' : state === 1 ? 'defeated' : null;
      } catch {
        return null;
      }
    },

    vote(voter: string, proposalId: string, support: boolean): Invocation {
      return {
        action: 'vote',
        contractId: config.GOVERNANCE_CONTRACT_ID,
        fn: 'vote',
        args: [
          new Address(voter).toScVal(),
          nativeToScVal(BigInt(proposalId), { type: 'u64' }),
          xdr.ScVal.scvBool(support),
        ],
      };
    },

    propose(proposer: string, title: string, descriptionHash: string, votingPeriod: number): Invocation {
      return {
        action: 'propose',
        contractId: config.GOVERNANCE_CONTRACT_ID,
        fn: 'propose',
        args: [
          new Address(proposer).toScVal(),
          nativeToScVal(title, { type: 'string' }),
          xdr.ScVal.scvBytes(Buffer.from(descriptionHash, 'hex')),
          nativeToScVal(votingPeriod, { type: 'u32' }),
        ],
      };
    },

    /** Anyone may execute: the contract checks the period is over and quorum and majority held. */
    execute(proposalId: string): Invocation {
      return {
        action: 'execute',
        contractId: config.GOVERNANCE_CONTRACT_ID,
        fn: 'execute',
        args: [nativeToScVal(BigInt(proposalId), { type: 'u64' })],
      };
    },

    delegateToSelf(account: string): Invocation {
      const a = new Address(account).toScVal();
      return { action: 'delegate', contractId: config.TOKEN_CONTRACT_ID, fn: 'delegate', args: [a, a] };
    },

    /** The unsigned transaction with `source` as source account, simulated and assembled. */
    async prepare(source: string, inv: Invocation, timeoutSeconds: number): Promise<Transaction> {
      const s = rpcServer();
      let account: Account;
      try {
        account = await s.getAccount(source);
      } catch (e) {
        if (/not found/i.test((e as Error).message))
          throw conflict(
            'account_not_found',
            'Your wallet account does not exist on the network yet: fund it with some XLM (it pays the transaction fee), then try again.',
          );
        throw new ChainUnavailableError('The Stellar RPC did not answer (account); try again shortly.');
      }
      const draft = new TransactionBuilder(account, { fee: '100', networkPassphrase: passphrase })
        .addOperation(new Contract(inv.contractId).call(inv.fn, ...inv.args))
        .setTimeout(timeoutSeconds)
        .build();
      const sim = await guarded('simulate', () => s.simulateTransaction(draft));
      if (rpc.Api.isSimulationError(sim)) throw contractFailure(sim.error);
      // The wallet signs seconds after this simulation; rent for the TTL extensions the contracts
      // make grows with every ledger in between. Headroom on the refundable fee keeps the
      // transaction valid (what it does not use is refunded).
      sim.transactionData.setResourceFee((BigInt(sim.minResourceFee) * 5n) / 4n + 10_000n);
      return rpc.assembleTransaction(draft, sim).build();
    },

    /** Sends a signed envelope and waits for its outcome (bounded). */
    async send(
      tx: Transaction,
    ): Promise<{ status: 'success' | 'failed' | 'pending'; ledger: number | null; error: string | null }> {
      const s = rpcServer();
      const sent = await guarded('send', () => s.sendTransaction(tx));
      if (sent.status === 'ERROR')
        return {
          status: 'failed',
          ledger: null,
          error: sent.errorResult?.result.type ?? 'rejected',
        };
      if (sent.status === 'TRY_AGAIN_LATER') return { status: 'pending', ledger: null, error: null };
      const done = await guarded('poll', () => s.pollTransaction(sent.hash, { attempts: 30 }));
      if (done.status === rpc.Api.GetTransactionStatus.SUCCESS)
        return { status: 'success', ledger: done.ledger, error: null };
      if (done.status === rpc.Api.GetTransactionStatus.FAILED) {
        const code = contractErrorCode(done.diagnosticEventsXdr ?? []);
        return {
          status: 'failed',
          ledger: done.ledger,
          error:
            code !== null
              ? `Error(Contract, #${code})`
              : entryArchived(done.resultXdr)
                ? ENTRY_ARCHIVED
                : done.resultXdr.result.type,
        };
      }
      return { status: 'pending', ledger: null, error: null };
    },
  };
}

export type GovernanceChain = ReturnType<typeof createGovernanceChain>;
