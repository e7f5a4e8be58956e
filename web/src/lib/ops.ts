// Operator dashboard arithmetic (pure; unit-tested): samples of the indexer's status over time,
// events per second between samples, retention headroom, and the lag chart's SVG path.
import type { IndexerStatus } from '$lib/api';

export interface Sample {
  at: number;
  lagLedgers: number | null;
  lagSeconds: number | null;
  events: number;
}

export const LEDGER_SECONDS = 5.5;

export function sampleOf(s: IndexerStatus, at: number): Sample {
  return { at, lagLedgers: s.lag_ledgers, lagSeconds: s.lag_seconds, events: Number(s.events_ingested) || 0 };
}

/** Keeps at most `max` samples, oldest first, dropping ones older than `windowMs`. */
export function pushSample(samples: Sample[], s: Sample, max = 360, windowMs = 30 * 60_000): Sample[] {
  const out = [...samples.filter((x) => s.at - x.at <= windowMs && x.at < s.at), s];
  return out.slice(-max);
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
