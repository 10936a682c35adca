// Steady load for the demo: open-loop (a request every 1/rate s, whatever the answers), so a
// slow or failing update shows up as failures rather than as a slower client.

/** Fires `send()` `rate` times a second until stopped; collects what each call resolves to. */
function steady(rate, send) {
  const results = [];
  const pending = new Set();
  const timer = setInterval(() => {
    const sentAt = Date.now();
    const call = send()
      .then((result) => results.push({ sentAt, doneAt: Date.now(), ...result }))
      .finally(() => pending.delete(call));
    pending.add(call);
  }, 1000 / rate);
  return {
    results,
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

const post = async (url, body) => {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, body: await response.json().catch(() => ({})) };
};

/** Tasks through the controller, which retries (POST /tasks). */
export function controllerLoad(base, rate) {
  let n = 0;
  return steady(rate, async () => {
    try {
      const { status, body } = await post(`${base}/tasks`, { n: n++ });
      return { ok: status === 200, status, version: body.version, worker: body.worker };
    } catch (error) {
      return { ok: false, status: 0, error: error.message };
    }
  });
}

/** Plain NATS requests, no retry: what a naive client sees. */
export function plainLoad(nc, service, rate) {
  return steady(rate, async () => {
    try {
      const reply = await nc.request(`handover.${service}.tasks`, JSON.stringify({ plain: true }), {
        timeout: 2000,
      });
      const code = reply.headers?.get('Nats-Service-Error-Code');
      if (code) return { ok: false, status: Number(code) };
      return { ok: true, version: reply.json().version };
    } catch (error) {
      return { ok: false, error: error.message };
    }
  });
}

/** JetStream jobs through the controller (POST /jobs answers once the stream acked). */
export function jobLoad(base, rate) {
  let n = 0;
  return steady(rate, async () => {
    try {
      const { status, body } = await post(`${base}/jobs`, { job: n++ });
      return { ok: status === 202, seq: body.seq };
    } catch (error) {
      return { ok: false, error: error.message };
    }
  });
}

/** Counts the acknowledgements workers send, by stream sequence. */
export function ackCounter(nc, stream, consumer) {
  const acked = new Map();
  const sub = nc.subscribe(`$JS.ACK.${stream}.${consumer}.>`, {
    callback: (_error, msg) => {
      const kind = msg.string().split(' ')[0] || '+ACK';
      if (kind !== '+ACK') return;
      const seq = Number(msg.subject.split('.')[5]);
      acked.set(seq, (acked.get(seq) ?? 0) + 1);
    },
  });
  return { acked, stop: () => sub.unsubscribe() };
}
