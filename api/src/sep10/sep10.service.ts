// SEP-10 v3.4 wallet sign-in and wallet linking (reference/security.md items 1–4).
// A challenge is accepted only if this server built it (one valid server signature, a nonce stored
// in sep10_challenges for that account and purpose), it is still inside its time bounds (no grace
// period), and the client account's signers meet its medium threshold — or, for an account that is
// not on chain, its master key signed. The nonce is consumed in the transaction that issues the
// session or links the wallet, so a challenge gives at most one result and a failed attempt keeps it.
import { randomUUID } from 'node:crypto';
import {
  FeeBumpTransaction,
  Keypair,
  MemoNone,
  SignerKey,
  StrKey,
  Transaction,
  TransactionBuilder,
  WebAuth,
  rpc,
  xdr,
} from '@stellar/stellar-sdk';
import type { AppContext } from '../context.ts';
import { AppError, badRequest, conflict, forbidden, notFound, unauthorized } from '../errors.ts';
import { recordAudit, type Db } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/principal.ts';
import type { TokenService } from '../auth/tokens.ts';
import { newReferralCode, type AuthService, type Session } from '../auth/auth.service.ts';
import { isMfaEnabled } from '../mfa/mfa.service.ts';
import { findUserByAddress, findUserById, updateUser } from '../users/users.repository.ts';
import {
  consumeChallenge,
  deleteStaleChallenges,
  findChallenge,
  findCustodialOwner,
  insertChallenge,
  insertWalletUser,
  type ChallengePurpose,
} from './sep10.repository.ts';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** An account's signing set as the chain holds it; null when the account does not exist on chain. */
export interface AccountSigners {
  mediumThreshold: number;
  /** Ed25519 signers (G… addresses) with a weight above zero, the master key among them. */
  signers: { key: string; weight: number }[];
}
export type AccountLoader = (account: string) => Promise<AccountSigners | null>;

/** Why a challenge was refused; mapped to 401 for sign-in and 400 for linking. */
export class ChallengeRejected extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ChallengeRejected';
    this.code = code;
  }
}

export interface ChallengeRequest {
  account: string;
  home_domain?: string;
  client_domain?: string;
}

export interface VerifiedChallenge {
  account: string;
  nonce: string;
}

// The server built minTime from its own clock; replicas may disagree by a moment. maxTime gets no leeway.
const MIN_TIME_SKEW_SECONDS = 5;
const NONCE_BYTES = 48;

export const walletDisplayName = (address: string): string =>
  `Stellar ${address.slice(0, 4)}…${address.slice(-4)}`;

/** Reads an account's signers and thresholds from Stellar RPC (getLedgerEntries on its LedgerKey). */
export function createRpcAccountLoader(url: string): AccountLoader {
  const server = new rpc.Server(url, { allowHttp: url.startsWith('http://') });
  return async (account) => {
    const key = xdr.LedgerKey.account(
      new xdr.LedgerKeyAccount({ accountId: Keypair.fromPublicKey(account).xdrPublicKey() }),
    );
    const res = await server.getLedgerEntries(key);
    const entry = res.entries[0];
    if (!entry) return null;
    if (entry.val.type !== 'account') throw new Error(`unexpected ledger entry type ${entry.val.type}`);
    return parseAccountSigners(account, entry.val.account);
  };
}

/** The master key (weight = thresholds[0]) plus every ed25519 signer; zero-weight keys cannot sign. */
export function parseAccountSigners(account: string, entry: xdr.AccountEntry): AccountSigners {
  const thresholds = entry.thresholds.value;
  const signers = [{ key: account, weight: thresholds[0] ?? 0 }];
  for (const s of entry.signers) {
    const key = SignerKey.encodeSignerKey(s.key);
    if (key.startsWith('G')) signers.push({ key, weight: s.weight });
  }
  return { mediumThreshold: thresholds[2] ?? 0, signers: signers.filter((s) => s.weight > 0) };
}

export function createSep10Service(
  ctx: AppContext,
  tokens: TokenService,
  auth: Pick<AuthService, 'issueSession'>,
  opts: { loadAccount?: AccountLoader } = {},
) {
  const { config } = ctx;
  const server = Keypair.fromSecret(config.SEP10_SIGNING_SECRET);
  const serverAccount = server.publicKey();
  const passphrase = config.STELLAR_NETWORK_PASSPHRASE;
  const homeDomain = config.SEP10_HOME_DOMAIN;
  const webAuthDomain = config.SEP10_WEB_AUTH_DOMAIN;
  const loadAccount: AccountLoader | null =
    opts.loadAccount ?? (config.STELLAR_RPC_URL ? createRpcAccountLoader(config.STELLAR_RPC_URL) : null);

  /** The challenge request as SEP-10 clients send it: a valid G… account, our home domain, no client_domain. */
  function assertRequest(q: ChallengeRequest): void {
    if (!StrKey.isValidEd25519PublicKey(q.account)) {
      throw badRequest('invalid_stellar_address', 'This is not a valid Stellar account address.', 'account');
    }
    if (q.home_domain !== undefined && q.home_domain !== homeDomain) {
      throw badRequest(
        'invalid_home_domain',
        `This server issues challenges for ${homeDomain} only.`,
        'home_domain',
      );
    }
    if (q.client_domain !== undefined) {
      throw badRequest(
        'client_domain_unsupported',
        'Client domain attribution is not supported.',
        'client_domain',
      );
    }
  }

  async function createChallenge(account: string, purpose: ChallengePurpose, userId: string | null) {
    const transaction = WebAuth.buildChallengeTx(
      server,
      account,
      homeDomain,
      config.SEP10_CHALLENGE_TTL_SECONDS,
      passphrase,
      webAuthDomain,
    );
    const tx = new Transaction(transaction, passphrase);
    const first = tx.operations[0];
    if (first?.type !== 'manageData' || !first.value || !tx.timeBounds)
      throw new Error('the SDK built an unexpected challenge');
    await deleteStaleChallenges(ctx.db);
    await insertChallenge(ctx.db, {
      nonce: Buffer.from(first.value).toString('latin1'),
      account,
      purpose,
      userId,
      expiresAt: new Date(Number(tx.timeBounds.maxTime) * 1000),
    });
    return { transaction, network_passphrase: passphrase };
  }

  /** Everything that can be checked without the database or the chain: the challenge is ours and live. */
  function readChallenge(envelope: string): VerifiedChallenge {
    let tx: Transaction | FeeBumpTransaction;
    try {
      tx = TransactionBuilder.fromXDR(envelope, passphrase);
    } catch {
      throw new ChallengeRejected('invalid_challenge', 'The transaction is not a valid base64 XDR envelope.');
    }
    if (!(tx instanceof Transaction))
      throw new ChallengeRejected('invalid_challenge', 'A challenge is a plain transaction, not a fee bump.');
    if (tx.source !== serverAccount)
      throw new ChallengeRejected('invalid_challenge', 'This challenge was not issued by this server.');
    // Exactly one valid server signature; any change to the transaction invalidates it.
    const hash = tx.hash();
    const serverSignatures = tx.signatures.filter((s) =>
      server.verify(hash, Buffer.from(s.signature.toBytes())),
    ).length;
    if (serverSignatures !== 1) {
      throw new ChallengeRejected(
        'invalid_server_signature',
        'The challenge does not carry exactly one valid signature of this server; it was altered or not issued here.',
      );
    }
    if (tx.operations.some((op) => op.type === 'manageData' && op.name === 'client_domain')) {
      throw new ChallengeRejected(
        'client_domain_unsupported',
        'Challenges with a client_domain operation are not supported.',
      );
    }
    if (tx.sequence !== '0')
      throw new ChallengeRejected('invalid_challenge', 'The challenge sequence number must be 0.');
    if (tx.memo.type !== MemoNone)
      throw new ChallengeRejected('invalid_challenge', 'The challenge must not carry a memo.');

    const [first, second, ...rest] = tx.operations;
    if (rest.length > 0 || first?.type !== 'manageData' || second?.type !== 'manageData') {
      throw new ChallengeRejected(
        'invalid_challenge',
        'The challenge must hold exactly the two ManageData operations this server issues.',
      );
    }
    const account = first.source ?? '';
    if (first.name !== `${homeDomain} auth` || !StrKey.isValidEd25519PublicKey(account)) {
      throw new ChallengeRejected(
        'invalid_challenge',
        `The first operation must be "${homeDomain} auth" from a G… client account.`,
      );
    }
    const nonce = first.value ? Buffer.from(first.value).toString('latin1') : '';
    if (nonce.length !== 64 || Buffer.from(nonce, 'base64').length !== NONCE_BYTES) {
      throw new ChallengeRejected(
        'invalid_challenge',
        'The challenge nonce must be 48 random bytes in base64.',
      );
    }
    if (
      second.name !== 'web_auth_domain' ||
      second.source !== serverAccount ||
      !second.value ||
      Buffer.from(second.value).toString('utf8') !== webAuthDomain
    ) {
      throw new ChallengeRejected(
        'invalid_challenge',
        `The web_auth_domain operation must name ${webAuthDomain}.`,
      );
    }

    const bounds = tx.timeBounds;
    const minTime = Number(bounds?.minTime ?? 0);
    const maxTime = Number(bounds?.maxTime ?? 0);
    if (
      !bounds ||
      maxTime === 0 ||
      maxTime - minTime > config.SEP10_CHALLENGE_TTL_SECONDS ||
      maxTime <= minTime
    ) {
      throw new ChallengeRejected(
        'invalid_challenge',
        'The challenge must have finite time bounds no longer than the challenge lifetime.',
      );
    }
    const now = Math.floor(Date.now() / 1000);
    if (now >= maxTime)
      throw new ChallengeRejected('challenge_expired', 'The challenge has expired; request a new one.');
    if (now + MIN_TIME_SKEW_SECONDS < minTime)
      throw new ChallengeRejected('invalid_challenge', 'The challenge is not valid yet.');

    // The SDK's own reading as a second opinion (its 5-minute grace is moot after the check above).
    try {
      const read = WebAuth.readChallengeTx(envelope, serverAccount, passphrase, homeDomain, webAuthDomain);
      if (read.clientAccountID !== account) throw new Error('client account mismatch');
    } catch (err) {
      throw new ChallengeRejected(
        'invalid_challenge',
        `The challenge is not valid: ${(err as Error).message}`,
      );
    }
    return { account, nonce };
  }

  /** The client account's signatures: threshold for on-chain accounts, master key otherwise. */
  async function verifyClientSignatures(envelope: string, account: string): Promise<void> {
    let signers: AccountSigners | null = null;
    if (loadAccount) {
      try {
        signers = await loadAccount(account);
      } catch (err) {
        // Fail closed: without the account's signers we cannot tell a disabled master key from a valid one.
        ctx.log.warn({ err: (err as Error).message, account }, 'sep10: account lookup failed');
        throw new AppError(
          503,
          'chain_unavailable',
          'The Stellar network could not be reached to check the account; try again shortly.',
        );
      }
    }
    try {
      if (signers) {
        // A threshold of 0 still needs one signer of positive weight (zero-weight keys were dropped).
        WebAuth.verifyChallengeTxThreshold(
          envelope,
          serverAccount,
          passphrase,
          Math.max(signers.mediumThreshold, 1),
          signers.signers.map((s) => ({ ...s, type: 'ed25519_public_key' })),
          homeDomain,
          webAuthDomain,
        );
      } else {
        const found = WebAuth.verifyChallengeTxSigners(
          envelope,
          serverAccount,
          passphrase,
          [account],
          homeDomain,
          webAuthDomain,
        );
        if (!found.includes(account)) throw new Error('not signed by the account');
      }
    } catch (err) {
      throw new ChallengeRejected(
        'invalid_signature',
        `The challenge is not signed as the account requires: ${(err as Error).message}`,
      );
    }
  }

  /** Read-only checks, then the signatures; the nonce is consumed later, in the caller's transaction. */
  async function verify(
    envelope: string,
    purpose: ChallengePurpose,
    userId: string | null,
  ): Promise<VerifiedChallenge> {
    const verified = readChallenge(envelope);
    const stored = await findChallenge(ctx.db, verified.nonce);
    if (
      !stored ||
      stored.account !== verified.account ||
      stored.purpose !== purpose ||
      (stored.user_id ?? null) !== userId
    ) {
      throw new ChallengeRejected(
        'unknown_challenge',
        'This challenge was not issued here for this account and purpose.',
      );
    }
    if (stored.consumed_at)
      throw new ChallengeRejected(
        'challenge_used',
        'This challenge has already been used; request a new one.',
      );
    if (stored.expired)
      throw new ChallengeRejected('challenge_expired', 'The challenge has expired; request a new one.');
    await verifyClientSignatures(envelope, verified.account);
    return verified;
  }

  const walletTaken = (): AppError =>
    conflict('wallet_taken', 'This Stellar address belongs to another account.');

  /** An address is free for a user unless another user holds it, now or as their custodial wallet. */
  async function assertAddressFree(db: Db, account: string, userId: string): Promise<void> {
    const owner = await findUserByAddress(db, account);
    const custodialOwner = await findCustodialOwner(db, account);
    if ((owner && owner.id !== userId) || (custodialOwner && custodialOwner !== userId)) throw walletTaken();
  }

  const asLoginError = (err: unknown): unknown =>
    err instanceof ChallengeRejected ? unauthorized(err.code, err.message) : err;
  const asLinkError = (err: unknown): unknown =>
    err instanceof ChallengeRejected ? badRequest(err.code, err.message, 'transaction') : err;
  const usedError = (): ChallengeRejected =>
    new ChallengeRejected(
      'challenge_used',
      'This challenge has already been used or has expired; request a new one.',
    );

  return {
    verify,

    async loginChallenge(q: ChallengeRequest) {
      assertRequest(q);
      return createChallenge(q.account, 'login', null);
    },

    async linkChallenge(principal: UserPrincipal, q: ChallengeRequest) {
      assertRequest(q);
      await assertAddressFree(ctx.db, q.account, principal.userId);
      return createChallenge(q.account, 'link', principal.userId);
    },

    async signIn(
      envelope: string,
      requestId: string,
    ): Promise<{ session: Session } | { mfa_required: true; mfa_token: string }> {
      try {
        const { account, nonce } = await verify(envelope, 'login', null);
        return await ctx.db.transaction().execute(async (trx) => {
          if (!(await consumeChallenge(trx, { nonce, account, purpose: 'login', userId: null })))
            throw usedError();
          let user = await findUserByAddress(trx, account);
          if (user?.wallet_kind === 'custodial' || (!user && (await findCustodialOwner(trx, account)))) {
            // Custodial keys never leave the server; a signature by one is not a learner proving a wallet.
            throw forbidden(
              'custodial_wallet',
              'Custodial addresses cannot sign in; use the account’s email and password.',
            );
          }
          if (!user) {
            const id = randomUUID();
            user =
              (await insertWalletUser(trx, {
                id,
                display_name: walletDisplayName(account),
                stellar_address: account,
                wallet_kind: 'external',
                referral_code: newReferralCode(),
              })) ?? (await findUserByAddress(trx, account));
            if (!user) throw new Error('wallet user vanished after a concurrent insert');
            if (user.id === id) {
              await recordAudit(trx, {
                actor: null,
                action: 'user.registered',
                targetType: 'user',
                targetId: id,
                requestId,
                data: { method: 'sep10', stellar_address: account },
              });
            }
          }
          if (await isMfaEnabled(trx, user.id)) {
            const mfa = await tokens.sign('mfa', user.id, user.role);
            return { mfa_required: true as const, mfa_token: mfa.token };
          }
          await recordAudit(trx, {
            actor: null,
            action: 'user.logged_in',
            targetType: 'user',
            targetId: user.id,
            requestId,
            data: { method: 'sep10', stellar_address: account },
          });
          return { session: await auth.issueSession(trx, user) };
        });
      } catch (err) {
        throw asLoginError(err);
      }
    },

    async linkWallet(principal: UserPrincipal, envelope: string, requestId: string) {
      try {
        const { account, nonce } = await verify(envelope, 'link', principal.userId);
        return await ctx.db.transaction().execute(async (trx) => {
          if (!(await consumeChallenge(trx, { nonce, account, purpose: 'link', userId: principal.userId })))
            throw usedError();
          const me = await findUserById(trx, principal.userId);
          if (!me) throw notFound('user_not_found', 'Your account no longer exists.');
          await assertAddressFree(trx, account, me.id);
          // The custodial_wallets row stays: what was recorded for that address remains reachable.
          if (me.stellar_address !== account || me.wallet_kind !== 'external') {
            await updateUser(trx, me.id, { stellar_address: account, wallet_kind: 'external' });
          }
          await recordAudit(trx, {
            actor: principal,
            action: 'user.wallet_linked',
            targetType: 'user',
            targetId: me.id,
            requestId,
            data: { from: me.stellar_address, from_kind: me.wallet_kind, to: account },
          });
          return { stellar_address: account, wallet_kind: 'external' as const };
        });
      } catch (err) {
        // Two users linking one address at once: the unique index decides, the loser gets the same 409.
        const pgErr = err as { code?: string; constraint?: string };
        if (pgErr.code === '23505' && pgErr.constraint === 'users_stellar_address_key') throw walletTaken();
        throw asLinkError(err);
      }
    },
  };
}

export type Sep10Service = ReturnType<typeof createSep10Service>;
