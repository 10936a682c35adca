// The demo's report: totals, each worker's timeline, which versions answered over time; in the
// terminal, and as an HTML page with an SVG timeline.

const phase = (w, t) =>
  t < w.spawnedAt || (w.exitAt !== undefined && t >= w.exitAt)
    ? 'off'
    : w.drainingAt !== undefined && t >= w.drainingAt
      ? 'draining'
      : w.readyAt !== undefined && t >= w.readyAt
        ? 'ready'
        : 'warming';
const glyph = { off: ' ', warming: '·', ready: '█', draining: '▒' };
const color = { warming: '#c9d3e0', ready: '#2e7d32', draining: '#f9a825' };
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const ms = (from, to) => (from === undefined || to === undefined ? '-' : `${to - from}`);

export function summarize({ controller, plain, jobs, acked }) {
  const published = jobs.results.filter((r) => r.ok).map((r) => r.seq);
  const lost = published.filter((seq) => !acked.has(seq));
  const twice = published.filter((seq) => (acked.get(seq) ?? 0) > 1);
  const count = (load) => ({
    sent: load.results.length,
    ok: load.results.filter((r) => r.ok).length,
  });
  const c = count(controller);
  const p = count(plain);
  return {
    controller: { ...c, failed: c.sent - c.ok },
    plain: { ...p, failed: p.sent - p.ok },
    jobs: {
      published: published.length,
      acked: published.length - lost.length,
      lost: lost.length,
      ackedTwice: twice.length,
      failedToPublish: jobs.results.length - published.length,
    },
  };
}

export function terminalReport({ summary, workers, replies, t0, t1, options }) {
  const columns = 60;
  const step = (t1 - t0) / columns;
  const at = (i) => t0 + (i + 0.5) * step;
  const lines = [];
  lines.push(
    `Rolling update of ${plural(options.workers, 'worker')}, 1.0.0 -> 2.0.0, ${options.order}, update delay ${options.updateDelay} ms, grace period ${options.gracePeriod} ms`,
  );
  lines.push('');
  lines.push(
    `requests through the controller (retrying): ${summary.controller.sent} sent, ${summary.controller.ok} succeeded, ${summary.controller.failed} failed`,
  );
  lines.push(
    `plain requests (no retry):                  ${summary.plain.sent} sent, ${summary.plain.ok} succeeded, ${summary.plain.failed} failed`,
  );
  lines.push(
    `jobs over JetStream:                        ${summary.jobs.published} published, ${summary.jobs.acked} acked, ${summary.jobs.lost} lost${summary.jobs.failedToPublish ? `, ${summary.jobs.failedToPublish} not published` : ''}`,
  );
  lines.push('');
  lines.push(
    'worker        version  ready after  drain  exit  (ms from start; drain = signal to deregistration)',
  );
  for (const w of workers) {
    const exit = w.exitCode === undefined ? '-' : w.killed ? 'SIGKILL' : String(w.exitCode);
    lines.push(
      `${w.id.padEnd(13)} ${w.version.padEnd(8)} ${ms(w.spawnedAt, w.readyAt).padStart(11)}  ${String(w.drainMs ?? '-').padStart(5)}  ${exit.padStart(4)}`,
    );
  }
  lines.push('');
  lines.push(
    `timeline, ${(step / 1000).toFixed(2)} s a column:   · warming   █ ready   ▒ draining`,
  );
  for (const w of workers)
    lines.push(
      `${`${w.id} ${w.version}`.padEnd(20)}${Array.from({ length: columns }, (_, i) => glyph[phase(w, at(i))]).join('')}`,
    );
  const served = Array.from({ length: columns }, (_, i) => {
    const inColumn = replies.filter(
      (r) => r.doneAt >= t0 + i * step && r.doneAt < t0 + (i + 1) * step,
    );
    if (inColumn.some((r) => !r.ok)) return 'x';
    const v2 = inColumn.filter((r) => r.version === '2.0.0').length;
    return inColumn.length === 0 ? ' ' : v2 === 0 ? '1' : v2 === inColumn.length ? '2' : '+';
  });
  lines.push(`${'versions answering'.padEnd(20)}${served.join('')}`);
  lines.push(`${''.padEnd(20)}1: only 1.0.0   +: both   2: only 2.0.0   x: a failure`);
  return lines.join('\n');
}

export function htmlReport({ summary, workers, replies, t0, t1, options }) {
  const width = 900;
  const lane = 28;
  const x = (t) => ((t - t0) / (t1 - t0)) * width;
  const rects = workers.flatMap((w, row) => {
    const y = 30 + row * lane;
    const end = Math.min(w.exitAt ?? t1, t1);
    const spans = [
      ['warming', w.spawnedAt, w.readyAt ?? w.drainingAt ?? end],
      ['ready', w.readyAt, w.drainingAt ?? end],
      ['draining', w.drainingAt, end],
    ]
      .map(([p, a, b]) => [p, a, Math.min(b, t1)])
      .filter(([, a, b]) => a !== undefined && a < t1 && b > a);
    return [
      `<text x="-8" y="${y + 17}" text-anchor="end">${w.id} ${w.version}</text>`,
      ...spans.map(
        ([p, a, b]) =>
          `<rect x="${x(a)}" y="${y}" width="${Math.max(1, x(b) - x(a))}" height="22" fill="${color[p]}"><title>${w.id} ${p} ${a - t0}-${b - t0} ms</title></rect>`,
      ),
    ];
  });
  const chartY = 50 + workers.length * lane;
  const buckets = Math.floor((t1 - t0) / 500);
  const bars = Array.from({ length: buckets }, (_, i) => {
    const inBucket = replies.filter(
      (r) => r.doneAt >= t0 + i * 500 && r.doneAt < t0 + (i + 1) * 500,
    );
    const v1 = inBucket.filter((r) => r.ok && r.version === '1.0.0').length;
    const v2 = inBucket.filter((r) => r.ok && r.version === '2.0.0').length;
    const bad = inBucket.filter((r) => !r.ok).length;
    const bx = x(t0 + i * 500);
    const bw = Math.max(1, x(t0 + 500) - 1);
    let y = chartY + 100;
    return [
      [v1, '#1565c0'],
      [v2, '#2e7d32'],
      [bad, '#c62828'],
    ]
      .map(([n, fill]) => {
        y -= n * 2;
        return n ? `<rect x="${bx}" y="${y}" width="${bw}" height="${n * 2}" fill="${fill}"/>` : '';
      })
      .join('');
  });
  const total = `${summary.controller.failed + summary.plain.failed} failed requests, ${summary.jobs.lost} lost jobs`;
  return `<!doctype html><meta charset="utf-8"><title>Handover rolling update</title>
<style>body{font:14px system-ui,sans-serif;margin:24px}svg text{font:12px system-ui}</style>
<h1>Rolling update: ${total}</h1>
<p>${plural(options.workers, 'worker')}, 1.0.0 → 2.0.0, ${options.order}, update delay ${options.updateDelay} ms, grace period ${options.gracePeriod} ms.
Controller (retrying): ${summary.controller.ok}/${summary.controller.sent} succeeded. Plain requests: ${summary.plain.ok}/${summary.plain.sent}.
Jobs: ${summary.jobs.acked}/${summary.jobs.published} acked.</p>
<svg width="${width + 160}" height="${chartY + 140}" viewBox="-150 0 ${width + 160} ${chartY + 140}">
<text x="0" y="16">worker lanes: grey warming, green ready, amber draining</text>${rects.join('')}
<text x="0" y="${chartY - 6}">replies per 0.5 s: blue 1.0.0, green 2.0.0, red failed</text>${bars.join('')}
<line x1="0" x2="${width}" y1="${chartY + 100}" y2="${chartY + 100}" stroke="#999"/>
<text x="0" y="${chartY + 118}">0 s</text><text x="${width}" y="${chartY + 118}" text-anchor="end">${((t1 - t0) / 1000).toFixed(1)} s</text>
</svg>`;
}
