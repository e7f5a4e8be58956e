// Freighter in the browser, loaded only when a wallet action starts (keeps other pages light).
// SEP-10: fetch a challenge for the address, have the wallet sign it, post it back.

export class WalletError extends Error {
  override name = 'WalletError';
}

async function freighter() {
  return import('@stellar/freighter-api');
}

/** Asks the extension for access and returns the chosen address. */
export async function connectFreighter(): Promise<string> {
  const f = await freighter();
  const status = await f.isConnected();
  if (!status.isConnected)
    throw new WalletError(
      'Freighter is not installed. Add the Freighter extension to your browser, then try again.',
    );
  const access = await f.requestAccess();
  if (access.error || !access.address)
    throw new WalletError(access.error?.message ?? 'Freighter did not share an address.');
  return access.address;
}

export async function signWithFreighter(
  xdr: string,
  networkPassphrase: string,
  address: string,
): Promise<string> {
  const f = await freighter();
  const signed = await f.signTransaction(xdr, { networkPassphrase, address });
  if (signed.error || !signed.signedTxXdr)
    throw new WalletError(signed.error?.message ?? 'The wallet did not sign.');
  return signed.signedTxXdr;
}

interface Challenge {
  transaction: string;
  network_passphrase: string;
}

async function json<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as T & { detail?: string; message?: string };
  if (!res.ok) throw new WalletError(body.detail ?? body.message ?? `The request failed (${res.status}).`);
  return body;
}

/**
 * The SEP-10 round trip against one of this site's endpoints (`/signin/wallet` to sign in,
 * `/wallet/link` to link): GET ?account= for the challenge, POST {transaction} with the signature.
 */
export async function sep10(endpoint: string, address: string): Promise<Record<string, unknown>> {
  const challenge = await json<Challenge>(
    await fetch(`${endpoint}?account=${encodeURIComponent(address)}`, {
      headers: { accept: 'application/json' },
    }),
  );
  const signed = await signWithFreighter(challenge.transaction, challenge.network_passphrase, address);
  return json(
    await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ transaction: signed }),
    }),
  );
}

interface GovernanceResult {
  status: 'success' | 'failed' | 'pending';
  ledger: number | null;
  error: string | null;
  error_code: string | null;
  tx_hash: string;
}

interface PreparedTx {
  transaction: string;
  network_passphrase: string;
}

/**
 * A governance action signed with Freighter: the site's server prepares the transaction for the
 * signed-in user's own wallet (`step` = vote, propose, execute or delegate), Freighter signs it, and the
 * server relays it. Freighter must hold the same address the account is linked to.
 */
export async function signGovernance(
  expectedAddress: string,
  body: Record<string, unknown>,
): Promise<GovernanceResult> {
  const address = await connectFreighter();
  if (address !== expectedAddress)
    throw new WalletError(
      `Freighter is set to ${address.slice(0, 6)}…, but your account's wallet is ${expectedAddress.slice(0, 6)}…. Switch accounts in Freighter and try again.`,
    );
  const post = (payload: Record<string, unknown>) =>
    fetch('/governance/tx', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(payload),
    });
  // `state_archived`: contract state expired while signing; a new transaction restores it.
  for (let attempt = 1; ; attempt++) {
    const prepared = await json<PreparedTx>(await post(body));
    const signed = await signWithFreighter(prepared.transaction, prepared.network_passphrase, address);
    const result = await json<GovernanceResult>(await post({ step: 'relay', transaction: signed }));
    if (result.error_code !== 'state_archived' || attempt === 2) return result;
  }
}
