import { describe, expect, it } from 'vitest';
import {
  chartPoints,
  eventsPerSecond,
  humanSeconds,
  pushSample,
  retentionHeadroom,
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

  it('keeps a bounded, ordered window of samples', () => {
    let xs: Sample[] = [];
    for (let i = 0; i < 10; i++) xs = pushSample(xs, s(i * 1000, i, i), 5);
    expect(xs.map((x) => x.at)).toEqual([5000, 6000, 7000, 8000, 9000]);
    expect(pushSample(xs, s(9000 + 31 * 60_000, 0, 0)).length).toBe(1);
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
