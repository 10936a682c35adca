import { createRequire } from 'node:module';
import { describeError } from '@handover/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Invocation, parseCommandLine } from './args.js';
import { connectionOptions, connectWithin, shownServers } from './connect.js';
import { CliError, exitCodes } from './errors.js';
import { Interrupted, interruptible } from './interrupt.js';
import { type CliIo, type Context, contextOf } from './io.js';
import { listWorkers } from './ls.js';
import { serviceStats } from './stats.js';
import { commandUsage, mainUsage } from './usage.js';
import { watchService } from './watch.js';

/**
 * Runs the `handover` command line `argv` (the arguments after `handover`) and resolves with
 * its exit code: 0 done, 1 failed (broker unreachable, no such service), 2 usage error, 130
 * when `io.signal` interrupted `ls` or `stats` (it ends `watch` with 0). It writes to `io`,
 * never to the process's own streams, and never exits the process.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = contextOf(io);
  let invocation: Invocation;
  try {
    invocation = parseCommandLine(argv, ctx.env);
  } catch (error) {
    return fail(ctx, error, true);
  }
  if (invocation.kind === 'help') {
    ctx.stdout.write(invocation.command ? commandUsage(invocation.command) : mainUsage());
    return exitCodes.ok;
  }
  if (invocation.kind === 'version') {
    ctx.stdout.write(`${version()}\n`);
    return exitCodes.ok;
  }
  let nc: NatsConnection | undefined;
  try {
    const options = connectionOptions(invocation.connection, ctx.env);
    const { timeoutMs } = invocation.connection;
    const watching = invocation.command === 'watch';
    nc = await connectWithin(options, timeoutMs, watching, ctx.signal);
    const { service, json } = invocation;
    if (invocation.command === 'ls') {
      await interruptible(listWorkers(nc, ctx, { service, json, timeoutMs }), ctx.signal);
    } else if (invocation.command === 'stats') {
      const { waitMs } = invocation;
      await interruptible(
        serviceStats(nc, ctx, { service: service as string, json, waitMs }),
        ctx.signal,
      );
    } else {
      const servers = shownServers(options);
      const { prefix } = invocation;
      await watchService(nc, ctx, { service: service as string, prefix, json, timeoutMs, servers });
    }
    return exitCodes.ok;
  } catch (error) {
    // Ctrl-C ends a watch as it should (0); anything else it cut short, as shells count it.
    if (error instanceof Interrupted) return invocation.command === 'watch' ? exitCodes.ok : 130;
    return fail(ctx, error, false);
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** Writes the error (and the usage, for a usage error) to stderr; returns the exit code. */
function fail(ctx: Context, error: unknown, parsing: boolean): number {
  if (error instanceof CliError) {
    ctx.stderr.write(`handover: ${error.message} (${error.code})\n`);
    if (error.code === 'HANDOVER_E_CLI_USAGE') {
      ctx.stderr.write(`\n${parsing ? mainUsage() : 'Run `handover --help` for the options.\n'}`);
    }
    return error.exitCode;
  }
  // Not ours: a bug or an unexpected broker answer. The message only; stack traces are noise.
  ctx.stderr.write(`handover: ${describeError(error)}\n`);
  return exitCodes.failed;
}

function version(): string {
  const manifest = createRequire(import.meta.url)('../package.json') as { version: string };
  return manifest.version;
}
