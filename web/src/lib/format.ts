// Small formatting rules shared by pages (pure; unit-tested).

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.round(seconds / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

export function date(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? '—'
    : d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'none';

export function chainLabel(status: string | null | undefined): { text: string; tone: Tone; help: string } {
  switch (status) {
    case 'confirmed':
      return {
        text: 'Confirmed on chain',
        tone: 'ok',
        help: 'The indexer has seen this on the Stellar ledger.',
      };
    case 'submitted':
      return { text: 'Submitted', tone: 'info', help: 'Sent to the network; waiting for a ledger to close.' };
    case 'pending':
      return { text: 'Pending', tone: 'warn', help: 'Queued to be written to the chain.' };
    case 'failed':
      return {
        text: 'Failed — will retry',
        tone: 'bad',
        help: 'The network refused it; an operator will retry.',
      };
    case 'revoked':
      return { text: 'Revoked', tone: 'bad', help: 'The issuer revoked this certificate.' };
    default:
      return { text: 'Not on chain yet', tone: 'none', help: 'Nothing has been queued for the chain yet.' };
  }
}

/** BST has 7 decimals; amounts arrive as base-unit decimal strings (i128). */
export function bst(baseUnits: string | number | bigint | null | undefined): string {
  if (baseUnits === null || baseUnits === undefined) return '0';
  let n: bigint;
  try {
    n = BigInt(baseUnits);
  } catch {
    return String(baseUnits);
  }
  const neg = n < 0n;
  if (neg) n = -n;
  const whole = n / 10_000_000n;
  const frac = (n % 10_000_000n).toString().padStart(7, '0').replace(/0+$/, '');
  const w = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '−' : ''}${w}${frac ? `.${frac}` : ''}`;
}

export function shortHash(h: string | null | undefined, keep = 6): string {
  if (!h) return '—';
  return h.length <= keep * 2 + 1 ? h : `${h.slice(0, keep)}…${h.slice(-keep)}`;
}

const EXPLORERS: Record<string, string> = {
  testnet: 'https://stellar.expert/explorer/testnet',
  mainnet: 'https://stellar.expert/explorer/public',
  public: 'https://stellar.expert/explorer/public',
  futurenet: 'https://stellar.expert/explorer/futurenet',
};

/** A public explorer page for a transaction or contract, or null for a private/local network. */
export function explorerUrl(
  network: string | null | undefined,
  kind: 'tx' | 'contract' | 'ledger',
  id: string | number | null | undefined,
): string | null {
  if (!network || id === null || id === undefined || id === '') return null;
  const base = EXPLORERS[network];
  return base ? `${base}/${kind}/${id}` : null;
}
