import { describe, expect, it } from 'vitest';
import {
  chartPoints,
  eventsPerSecond,
  humanSeconds,
  retentionHeadroom,
  samplesOf,
  windowOf,
  type Sample,
} from './ops.ts';
import { _move } from '../routes/teach/[id]/+page.server.ts';

const s = (at: number, lag: number | null, events: number): Sample => ({
  at,
  lagLedgers: lag,
  lagSeconds: lag === null ? null : lag * 5,
  events,
});

describe('operator dashboard', () => {
  it('computes events per second between samples at least a second apart', () => {
    expect(eventsPerSecond([s(0, 1, 100), s(500, 1, 110), s(10_000, 1, 300)])).toBe(20);
    expect(eventsPerSecond([s(0, 1, 100)])).toBeNull();
  });

  it('reads the API’s history into ordered samples', () => {
    const row = (at: string, lag: number | null, events: string) => ({
      at,
      status: 'following',
      lag_ledgers: lag,
      lag_seconds: lag === null ? null : lag * 5,
      last_ledger: 10,
      latest_rpc_ledger: 11,
      events_ingested: events,
    });
    const h = {
      window_seconds: 3600,
      bucket_seconds: 10,
      samples: [row('2026-01-01T00:00:10Z', 2, '9007199254740993'), row('2026-01-01T00:00:00Z', null, '5')],
    };
    expect(samplesOf(h)).toEqual([
      { at: Date.parse('2026-01-01T00:00:00Z'), lagLedgers: null, lagSeconds: null, events: 5 },
      { at: Date.parse('2026-01-01T00:00:10Z'), lagLedgers: 2, lagSeconds: 10, events: 9007199254740992 },
    ]);
  });

  it('offers only the windows the API keeps', () => {
    expect(windowOf('360')).toBe(360);
    expect(windowOf('5000')).toBe(60);
    expect(windowOf(null)).toBe(60);
  });

  it('reports retention headroom in ledgers and time', () => {
    expect(retentionHeadroom({ last_ledger: 1100, oldest_rpc_ledger: 100 })).toEqual({
      ledgers: 1000,
      seconds: 5500,
    });
    expect(retentionHeadroom({ last_ledger: null, oldest_rpc_ledger: 100 })).toBeNull();
    expect(humanSeconds(5500)).toBe('1.5 h');
  });

  it('draws the lag chart inside its box, skipping unknown values', () => {
    const c = chartPoints([s(0, 0, 0), s(1000, null, 0), s(2000, 10, 0)], (x) => x.lagLedgers, 100, 50);
    expect(c).toEqual({ points: '0.0,50.0 100.0,0.0', max: 10 });
  });
});

describe('course editor ordering', () => {
  it('moves a module or lesson one place and leaves the ends alone', () => {
    expect(_move(['a', 'b', 'c'], 'b', 'up')).toEqual(['b', 'a', 'c']);
    expect(_move(['a', 'b', 'c'], 'c', 'down')).toEqual(['a', 'b', 'c']);
    expect(_move(['a', 'b', 'c'], 'x', 'up')).toEqual(['a', 'b', 'c']);
  });
});
