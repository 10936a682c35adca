/** Where a JetStream message stands, read from its ack subject. */
export interface DeliveryInfo {
  /** The stream sequence: the same on every delivery of the message. */
  readonly seq: number;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
}

/**
 * Reads the delivery count and stream sequence from an ack subject (ADR-15):
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`, or the form with a
 * domain and account hash after `$JS.ACK` (11 tokens, or 12 with a trailing token). Anything
 * else is not a JetStream delivery: `undefined`.
 */
export function parseAckSubject(reply: string): DeliveryInfo | undefined {
  // Once per message: the dots are found by hand rather than with split(), which makes an
  // array and a string per token.
  if (!reply.startsWith('$JS.ACK.')) return undefined;
  let dots = 2;
  for (let i = 8; i < reply.length; i++) if (reply.charCodeAt(i) === 46) dots++;
  // Tokens = dots + 1: 9 in the short form; 11 or 12 with a domain and account hash.
  const at = dots === 8 ? 4 : dots >= 10 ? 6 : -1;
  if (at < 0) return undefined;
  let start = 0;
  for (let token = 0; token < at; token++) start = reply.indexOf('.', start) + 1;
  const middle = reply.indexOf('.', start);
  const end = reply.indexOf('.', middle + 1);
  const deliveryCount = digits(reply, start, middle);
  const seq = digits(reply, middle + 1, end);
  if (deliveryCount < 0 || seq < 1) return undefined;
  return { seq, deliveryCount };
}

/** The decimal number in `text[from, to)`, or -1 when it is not one. */
function digits(text: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const encoder = new TextEncoder();

/** Acknowledgement bodies (the protocol's, sent to the message's reply subject). */
export const ackBodies = {
  ack: encoder.encode('+ACK'),
  nak: encoder.encode('-NAK'),
  working: encoder.encode('+WPI'),
  term: encoder.encode('+TERM'),
} as const;

/** `-NAK` with a redelivery delay (the server takes nanoseconds). */
export function nakBody(delayMs: number | undefined): Uint8Array {
  if (!delayMs) return ackBodies.nak;
  return encoder.encode(`-NAK ${JSON.stringify({ delay: delayMs * 1_000_000 })}`);
}

/** `+TERM`, with a reason when the server understands one (2.11+; 2.9 redelivers instead). */
export function termBody(reason: string | undefined): Uint8Array {
  return reason ? encoder.encode(`+TERM ${reason}`) : ackBodies.term;
}
