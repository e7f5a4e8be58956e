// Recent indexer status samples kept by this web process, so the lag chart has a past on first load.
import type { IndexerStatus } from '$lib/api';
import { pushSample, sampleOf, type Sample } from '$lib/ops.ts';

let samples: Sample[] = [];

export function recordStatus(s: IndexerStatus, at = Date.now()): Sample[] {
  samples = pushSample(samples, sampleOf(s, at));
  return samples;
}
