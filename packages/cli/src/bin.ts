#!/usr/bin/env node
// The `handover` command: `run` with the process's streams, environment and signals.
import { run } from './run.js';

const stop = new AbortController();
// Ctrl-C (or a platform's SIGTERM) ends a `watch` cleanly with 0 and interrupts `ls` and
// `stats` with 130; a second one exits at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  });
}
// A closed pipe (`handover watch orders | head`) ends the command, not with a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') stop.abort();
});

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: stop.signal,
});
// Exit once the output is flushed, not when the event loop empties: a connection attempt to a
// broker that accepted the socket and never answered would hold it open.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
