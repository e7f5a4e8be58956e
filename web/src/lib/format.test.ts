import { describe, expect, it } from 'vitest';
import { catalogQuery } from './catalog.ts';
import { bst, chainLabel, duration, explorerUrl, shortHash } from './format.ts';
import { embedUrl } from './video.ts';

describe('formatting', () => {
  it('shows BST from base units (7 decimals) exactly', () => {
    expect(bst('500000000')).toBe('50');
    expect(bst('12345678901')).toBe('1,234.5678901');
    expect(bst('-10000000')).toBe('−1');
    expect(bst(null)).toBe('0');
  });

  it('labels every chain state a learner can see', () => {
    expect(chainLabel('confirmed').tone).toBe('ok');
    expect(chainLabel('failed').text).toMatch(/retry/);
    expect(chainLabel(null).text).toMatch(/Not on chain/);
  });

  it('links public networks to an explorer and private ones to nothing', () => {
    expect(explorerUrl('testnet', 'tx', 'ab')).toBe('https://stellar.expert/explorer/testnet/tx/ab');
    expect(explorerUrl('mainnet', 'contract', 'C1')).toBe(
      'https://stellar.expert/explorer/public/contract/C1',
    );
    expect(explorerUrl('local', 'tx', 'ab')).toBeNull();
  });

  it('formats durations and hashes', () => {
    expect(duration(300)).toBe('5 min');
    expect(duration(5400)).toBe('1 h 30 min');
    expect(shortHash('abcdef0123456789abcdef', 4)).toBe('abcd…cdef');
  });
});

describe('catalog filters', () => {
  it('passes good filters and drops malformed ones', () => {
    expect(
      catalogQuery(new URLSearchParams('q=%20soroban%20&level=advanced&tag=Smart-Contracts&language=EN')),
    ).toMatchObject({ q: 'soroban', level: 'advanced', tag: 'smart-contracts', language: 'en' });
    expect(catalogQuery(new URLSearchParams('level=expert&tag=no%20spaces&language=english'))).toMatchObject({
      level: undefined,
      tag: undefined,
      language: undefined,
      q: undefined,
    });
  });
});

describe('lesson videos', () => {
  it('embeds YouTube and Vimeo privately and plays other https files natively', () => {
    expect(embedUrl('https://www.youtube.com/watch?v=dQw4w9WgXcQ')).toEqual({
      kind: 'iframe',
      src: 'https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ',
    });
    expect(embedUrl('https://vimeo.com/76979871')).toEqual({
      kind: 'iframe',
      src: 'https://player.vimeo.com/video/76979871',
    });
    expect(embedUrl('https://cdn.example/v.mp4')).toEqual({
      kind: 'video',
      src: 'https://cdn.example/v.mp4',
    });
    expect(embedUrl('http://insecure.example/v.mp4')).toBeNull();
  });
});
