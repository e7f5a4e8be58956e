// A stand-in for the Freighter extension in browser tests: it signs with a test key in Node.
import { TransactionBuilder, type Keypair } from '@stellar/stellar-sdk';
import type { Page } from 'playwright-core';

/**
 * Answers @stellar/freighter-api's window.postMessage protocol the way the extension's content script
 * does (FREIGHTER_EXTERNAL_MSG_REQUEST → FREIGHTER_EXTERNAL_MSG_RESPONSE), signing in Node with `key`.
 * Returns the hashes of what it signed.
 */
export async function installFreighter(page: Page, key: Keypair): Promise<string[]> {
  const signed: string[] = [];
  await page.exposeFunction('__standInSign', (xdrB64: string, passphrase: string) => {
    const tx = TransactionBuilder.fromXDR(xdrB64, passphrase);
    tx.sign(key);
    signed.push(Buffer.from(tx.hash()).toString('hex'));
    return tx.toXDR();
  });
  await page.addInitScript((publicKey: string) => {
    window.addEventListener('message', async (ev: MessageEvent) => {
      const m = ev.data as {
        source?: string;
        messageId?: number;
        type?: string;
        transactionXdr?: string;
        networkPassphrase?: string;
      };
      if (ev.source !== window || m?.source !== 'FREIGHTER_EXTERNAL_MSG_REQUEST') return;
      const reply = (payload: Record<string, unknown>) =>
        window.postMessage(
          { source: 'FREIGHTER_EXTERNAL_MSG_RESPONSE', messagedId: m.messageId, ...payload },
          window.location.origin,
        );
      switch (m.type) {
        case 'REQUEST_CONNECTION_STATUS':
          return reply({ isConnected: true });
        case 'REQUEST_ALLOWED_STATUS':
          return reply({ isAllowed: true });
        case 'REQUEST_ACCESS':
        case 'REQUEST_PUBLIC_KEY':
          return reply({ publicKey });
        case 'SUBMIT_TRANSACTION': {
          const sign = (window as unknown as { __standInSign(x: string, p: string): Promise<string> })
            .__standInSign;
          return reply({
            signedTransaction: await sign(m.transactionXdr!, m.networkPassphrase!),
            signerAddress: publicKey,
          });
        }
      }
    });
  }, key.publicKey());
  return signed;
}
