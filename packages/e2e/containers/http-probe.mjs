// One look through the load balancer (run by src/http-load.ts in a container on the overlay
// network): GET /hello until WORKERS distinct workers of VERSION have answered, or BOUND_MS has
// passed. Prints one JSON line: the workers and versions seen, and the last error.
const env = process.env;
const target = new URL('/hello', env.TARGET ?? 'http://lb:8080');
const workers = Number(env.WORKERS ?? 1);
const version = env.VERSION;
const bound = Date.now() + Number(env.BOUND_MS ?? 60_000);
const seen = {};
let lastError;
let requests = 0;
while (Date.now() < bound) {
  try {
    requests++;
    const res = await fetch(target, { signal: AbortSignal.timeout(2000) });
    const body = await res.json().catch(() => ({}));
    if (res.ok && (!version || body.version === version)) seen[body.worker] = body.version;
    else lastError = `${res.status} ${JSON.stringify(body).slice(0, 100)}`;
  } catch (error) {
    lastError = String(error.cause?.code ?? error.message);
  }
  if (Object.keys(seen).length >= workers) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
process.stdout.write(
  `${JSON.stringify({ ok: Object.keys(seen).length >= workers, seen, requests, lastError })}\n`,
);
