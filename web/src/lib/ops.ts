// Operator dashboard arithmetic (pure; unit-tested): the indexer's stored status history,
// events per second between samples, retention headroom, and the lag chart's SVG path.
import type { IndexerHistory, IndexerStatus } from '$lib/api';

export interface Sample {
  at: number;
  lagLedgers: number | null;
  lagSeconds: number | null;
  events: number;
}

export const LEDGER_SECONDS = 5.5;

/** The windows the dashboard offers (minutes → label); the API keeps 24 h. */
export const WINDOWS = [
  { minutes: 60, label: '1 h' },
  { minutes: 360, label: '6 h' },
  { minutes: 1440, label: '24 h' },
] as const;

/** A `?window=` value the dashboard offers, or the first one. */
export function windowOf(param: string | null): number {
  const n = Number(param);
  return WINDOWS.some((w) => w.minutes === n) ? n : WINDOWS[0].minutes;
}

/** The API's stored history (GET /v1/ops/indexer/history) as chart samples, oldest first. */
export function samplesOf(h: IndexerHistory): Sample[] {
  return h.samples
    .map((x) => ({
      at: Date.parse(x.at),
      lagLedgers: x.lag_ledgers,
      lagSeconds: x.lag_seconds,
      events: Number(x.events_ingested) || 0,
    }))
    .filter((x) => Number.isFinite(x.at))
    .sort((a, b) => a.at - b.at);
}

/** Events ingested per second over the last two samples at least a second apart; null without. */
export function eventsPerSecond(samples: Sample[]): number | null {
  const last = samples.at(-1);
  if (!last) return null;
  for (let i = samples.length - 2; i >= 0; i--) {
    const prev = samples[i]!;
    const dt = (last.at - prev.at) / 1000;
    if (dt >= 1) return Math.max(0, (last.events - prev.events) / dt);
  }
  return null;
}

/**
 * How far the indexer's cursor is from falling out of the RPC's retention window: ledgers between
 * the oldest ledger the RPC still serves and the last one ingested, and that in time.
 */
export function retentionHeadroom(
  s: Pick<IndexerStatus, 'last_ledger' | 'oldest_rpc_ledger'>,
): { ledgers: number; seconds: number } | null {
  if (s.last_ledger === null || s.oldest_rpc_ledger === null) return null;
  const ledgers = s.last_ledger - s.oldest_rpc_ledger;
  return { ledgers, seconds: Math.round(ledgers * LEDGER_SECONDS) };
}

export function humanSeconds(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '—';
  if (sec < 90) return `${Math.round(sec)} s`;
  if (sec < 5400) return `${Math.round(sec / 60)} min`;
  if (sec < 172_800) return `${(sec / 3600).toFixed(1)} h`;
  return `${(sec / 86_400).toFixed(1)} days`;
}

/** An SVG polyline `points` string for values over time in a w×h box (y grows downwards). */
export function chartPoints(
  samples: Sample[],
  pick: (s: Sample) => number | null,
  w: number,
  h: number,
): { points: string; max: number } {
  const pts = samples
    .map((s) => [s.at, pick(s)] as const)
    .filter((p): p is readonly [number, number] => p[1] !== null);
  if (pts.length === 0) return { points: '', max: 0 };
  const t0 = pts[0]![0];
  const t1 = pts.at(-1)![0];
  const max = Math.max(1, ...pts.map((p) => p[1]));
  const span = Math.max(1, t1 - t0);
  const points = pts
    .map(([t, v]) => `${(((t - t0) / span) * w).toFixed(1)},${(h - (v / max) * h).toFixed(1)}`)
    .join(' ');
  return { points, max };
}
