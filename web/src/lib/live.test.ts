import { describe, expect, it } from 'vitest';
import { backoff, idAfter, openStream, parseMessage, socketUrl, type LiveNotification } from './live.ts';

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
    queueMicrotask(() => this.onopen?.());
  }
  send() {}
  close() {
    this.onclose?.();
  }
  push(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
}

describe('the notifications stream', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(backoff(0, () => 0.5)).toBe(500);
    expect(backoff(3, () => 0.5)).toBe(4000);
    expect(backoff(20, () => 0.5)).toBe(15000);
    expect(backoff(0, () => 0)).toBe(400);
  });

  it('compares numeric ids numerically', () => {
    expect(idAfter('10', '9')).toBe(true);
    expect(idAfter('9', '10')).toBe(false);
    expect(idAfter(1, null)).toBe(true);
  });

  it('resumes after the last id it saw', () => {
    expect(socketUrl('https://site.example', '41')).toBe('wss://site.example/ws?after=41');
    expect(socketUrl('http://127.0.0.1:5173', null)).toBe('ws://127.0.0.1:5173/ws');
  });

  it('reads the API’s message shapes', () => {
    expect(parseMessage('{"type":"notification","notification":{"id":"3"}}')?.notification?.id).toBe('3');
    expect(parseMessage('{"type":"ready","last_id":"3","replayed":0}')?.type).toBe('ready');
    expect(parseMessage('nope')).toBeNull();
  });

  it('reconnects with ?after= and delivers a replayed notification once', async () => {
    FakeSocket.all = [];
    const got: LiveNotification[] = [];
    const stream = openStream(
      'http://site',
      '5',
      { onNotification: (n) => got.push(n) },
      FakeSocket as unknown as typeof WebSocket,
    );
    const first = FakeSocket.all[0]!;
    expect(first.url).toBe('ws://site/ws?after=5');
    first.push({ type: 'notification', notification: { id: '6' } });
    first.push({ type: 'notification', notification: { id: '7' } });
    first.close();
    await new Promise((r) => setTimeout(r, 700));
    const second = FakeSocket.all[1]!;
    expect(second.url).toBe('ws://site/ws?after=7');
    second.push({ type: 'notification', notification: { id: '7' } });
    second.push({ type: 'notification', notification: { id: '8' } });
    expect(got.map((n) => n.id)).toEqual(['6', '7', '8']);
    stream.close();
    expect(stream.lastId()).toBe('8');
  });
});
