// One test file's whole system and Chromium: started before its tests, stopped after them, and
// the servers' last log lines printed under a failing test.
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launch } from './browser.ts';
import { startStack, type Stack, type StackOptions } from './stack.ts';

export interface System {
  stack: Stack;
  browser: Browser;
}

/** Registers the file's hooks; `ready` runs once both are up (take them, seed data). */
export function useSystem(opts: StackOptions, ready: (system: System) => void | Promise<void>): void {
  let system: Partial<System> = {};
  beforeAll(async () => {
    const stack = await startStack(opts);
    system = { stack };
    system.browser = await launch();
    await ready(system as System);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && system.stack)
      console.error(`--- server logs\n${system.stack.logs.slice(-60).join('\n')}`);
  });
  afterAll(async () => {
    await system.browser?.close();
    await system.stack?.stop();
  });
}
