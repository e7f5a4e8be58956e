#!/usr/bin/env node
// starling-indexer run | backfill --from <ledger> [--to <ledger>] | rebuild | status | verify
import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { closeContext, createContext } from './context.ts';
import { errorMessage, IndexerError } from './errors.ts';
import { startDaemon } from './main.ts';
import { runBackfill } from './ingest/backfill.ts';
import { runRebuild } from './project/rebuild.ts';
import { runVerify } from './project/verify.ts';
import { buildStatus } from './http/server.ts';

const USAGE = `usage: starling-indexer <command>
  run                               leader/standby daemon: ingest + submit + HTTP (/healthz /readyz /status /metrics)
  backfill --from <ledger> [--to <ledger>]   ingest a ledger range once (progress bar), then exit
  rebuild                           restore projections from current contract state (getLedgerEntries)
                                    and restart ingest at the RPC's oldest ledger (after a retention gap)
  status                            print the indexer state and intents by status (JSON)
  verify [--source rpc|events]      rebuild into scratch tables and compare with the live projections`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      source: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  switch (command) {
    case 'run': {
      const daemon = await startDaemon(config);
      const stop = () => void daemon.stop();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        await daemon.done;
        await daemon.stop();
        return 0;
      } catch (e) {
        await daemon.stop();
        console.error(`indexer stopped: ${errorMessage(e)}`);
        return e instanceof IndexerError && e.code === 'retention_gap'
          ? 3
          : e instanceof IndexerError && e.code === 'network_reset'
            ? 4
            : 1;
      }
    }
    case 'backfill': {
      if (!values.from) throw new Error('backfill needs --from <ledger>');
      const ctx = createContext(config);
      try {
        const r = await runBackfill(ctx, {
          from: Number(values.from),
          ...(values.to ? { to: Number(values.to) } : {}),
          progress: process.stderr,
        });
        console.log(JSON.stringify(r));
        return 0;
      } finally {
        await closeContext(ctx);
      }
    }
    case 'rebuild': {
      const ctx = createContext(config);
      try {
        console.log(JSON.stringify(await runRebuild(ctx), null, 2));
        return 0;
      } finally {
        await closeContext(ctx);
      }
    }
    case 'status': {
      const ctx = createContext(config);
      try {
        console.log(JSON.stringify(await buildStatus(ctx, { role: () => 'stopped' }), null, 2));
        return 0;
      } finally {
        await closeContext(ctx);
      }
    }
    case 'verify': {
      const ctx = createContext(config);
      try {
        const r = await runVerify(ctx, { source: values.source === 'events' ? 'events' : 'rpc' });
        console.log(JSON.stringify(r, null, 2));
        return r.equal ? 0 : 5;
      } finally {
        await closeContext(ctx);
      }
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`starling-indexer: ${errorMessage(e)}`);
    process.exit(1);
  },
);
