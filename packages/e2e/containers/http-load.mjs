// HTTP load from inside the overlay network (run by src/http-load.ts in a container of the base
// image): GET /hello and POST /orders through the load balancer, open-loop (a fixed rate whatever
// the answers), on keep-alive connections, WITHOUT retry. A 5xx, any other non-2xx, a socket
// error (a reset connection above all) and a timeout are failed requests. On SIGTERM it stops
// sending, waits for the answers, and prints one JSON summary line on stdout.
//
// A POST takes the next order number of the app process that serves it, so per worker the
// numbers the client got must be a range without a gap: a gap is a POST that an app served and
// whose answer never came back (or that the balancer sent twice).
import { Agent, request } from 'node:http';

const env = process.env;
const number = (name, fallback) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a number >= 0`);
  return value;
};
const target = new URL(env.TARGET ?? 'http://lb:8080');
const rate = number('RATE', 1000); // requests a second, GET and POST together
const postShare = number('POST_SHARE', 0.5);
const timeoutMs = number('TIMEOUT_MS', 10_000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (fields) => process.stderr.write(`${JSON.stringify({ at: Date.now(), ...fields })}\n`);

// Keep-alive to the balancer. Idle sockets are closed by the client after 4 s, before HAProxy's
// `timeout http-keep-alive` (10 s) would close them: the race of a request sent on a socket the
// balancer is closing belongs to the client's set-up, not to the rolling update under test.
const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 4000 });

const methods = () => ({
  sent: 0,
  ok: 0,
  failed: 0,
  statuses: {},
  errors: {},
  fiveXx: 0,
  resets: 0,
  versions: {},
});
const stats = { GET: methods(), POST: methods() };
const orders = {}; // worker -> { count, min, max, duplicates }
const seen = {}; // worker -> Set of order numbers
const failures = [];
const seconds = [];
const t0 = Date.now();
const bucket = (at) => {
  const i = Math.max(0, Math.floor((at - t0) / 1000));
  for (let k = seconds.length; k <= i; k++) seconds.push({ ok: 0, failed: 0, versions: {} });
  return seconds[i];
};
const bump = (counts, key) => {
  counts[key] = (counts[key] ?? 0) + 1;
};
const pending = new Set();

function send(n) {
  const method = Math.floor((n + 1) * postShare) > Math.floor(n * postShare) ? 'POST' : 'GET';
  const m = stats[method];
  m.sent++;
  const sentAt = Date.now();
  const body = method === 'POST' ? JSON.stringify({ item: n }) : undefined;
  const done = new Promise((resolve) => {
    let settled = false;
    const fail = (kind, extra = {}) => {
      if (settled) return;
      settled = true;
      m.failed++;
      bump(m.errors, kind);
      if (/^5\d\d$/.test(kind)) m.fiveXx++;
      if (kind === 'ECONNRESET' || kind === 'socket hang up' || kind === 'EPIPE') m.resets++;
      bucket(Date.now()).failed++;
      if (failures.length < 50)
        failures.push({ n, method, sentAt, doneAt: Date.now(), error: kind, ...extra });
      resolve();
    };
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: method === 'POST' ? '/orders' : '/hello',
        agent,
        headers: body
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
          : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('error', (error) => fail(error.code ?? error.message));
        res.on('end', () => {
          if (settled) return;
          bump(m.statuses, res.statusCode);
          if (res.statusCode < 200 || res.statusCode > 299)
            return fail(String(res.statusCode), { body: text.slice(0, 200) });
          settled = true;
          let answer = {};
          try {
            answer = JSON.parse(text);
          } catch {}
          m.ok++;
          bump(m.versions, answer.version);
          const b = bucket(Date.now());
          b.ok++;
          bump(b.versions, answer.version);
          if (method === 'POST') {
            orders[answer.worker] ??= { count: 0, min: answer.order, max: 0, duplicates: 0 };
            seen[answer.worker] ??= new Set();
            const w = orders[answer.worker];
            const s = seen[answer.worker];
            if (s.has(answer.order)) w.duplicates++;
            s.add(answer.order);
            w.count++;
            w.min = Math.min(w.min, answer.order);
            w.max = Math.max(w.max, answer.order);
          }
          resolve();
        });
      },
    );
    req.setTimeout(timeoutMs, () => {
      fail('timeout');
      req.destroy();
    });
    req.on('error', (error) =>
      fail(error.code === 'ECONNRESET' ? 'ECONNRESET' : (error.code ?? error.message)),
    );
    req.end(body);
  });
  pending.add(done);
  done.finally(() => pending.delete(done));
}

// A fixed schedule: every tick sends what is due since t0, so a busy event loop catches up
// instead of quietly lowering the rate.
let sent = 0;
const ticker = setInterval(() => {
  const due = Math.floor(((Date.now() - t0) / 1000) * rate);
  while (sent < due) send(sent++);
}, 5);
log({ loading: true, target: target.href, rate, postShare });

let stopping = false;
process.once('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  const sendingMs = Date.now() - t0;
  const bound = Date.now() + timeoutMs + 2000;
  while (pending.size > 0 && Date.now() < bound) await sleep(50);
  const summary = {
    t0,
    sendingMs,
    options: { target: target.href, rate, postShare, timeoutMs },
    requests: stats,
    unanswered: pending.size,
    orders,
    failures,
    seconds,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  agent.destroy();
  process.exit(0);
});
