import { describe, expect, it } from 'vitest';
import { nakBody, parseAckSubject, termBody } from './jetstream-delivery.js';

const text = (body: Uint8Array) => new TextDecoder().decode(body);

describe('parseAckSubject', () => {
  it('reads delivery count and stream sequence from the 9-token form', () => {
    expect(parseAckSubject('$JS.ACK.ORDERS.orders.2.1041.977.1732269601250000000.12')).toEqual({
      seq: 1041,
      deliveryCount: 2,
    });
  });

  it('reads them from the form with domain and account hash, with or without a last token', () => {
    const v2 = '$JS.ACK.hub.ACCHASH.ORDERS.orders.1.7.7.1732269601250000000.0';
    expect(parseAckSubject(v2)).toEqual({ seq: 7, deliveryCount: 1 });
    expect(parseAckSubject(`${v2}.r4nd0m`)).toEqual({ seq: 7, deliveryCount: 1 });
  });

  it.each([
    '',
    '_INBOX.abc',
    '$JS.ACK.ORDERS.orders.1.7',
    '$JS.NAK.ORDERS.orders.1.7.7.1.0',
    '$JS.ACK.ORDERS.orders.x.7.7.1.0',
    '$JS.ACK.ORDERS.orders.1.0.7.1.0',
  ])('is undefined for %j', (reply) => {
    expect(parseAckSubject(reply)).toBeUndefined();
  });
});

describe('acknowledgement bodies', () => {
  it('carries a nak delay in nanoseconds, and none for 0 or undefined', () => {
    expect(text(nakBody(1500))).toBe('-NAK {"delay":1500000000}');
    expect(text(nakBody(0))).toBe('-NAK');
    expect(text(nakBody(undefined))).toBe('-NAK');
  });

  it('carries a term reason only when there is one', () => {
    expect(text(termBody('bad payload'))).toBe('+TERM bad payload');
    expect(text(termBody(undefined))).toBe('+TERM');
  });
});
