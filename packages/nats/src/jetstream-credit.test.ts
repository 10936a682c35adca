import { describe, expect, it } from 'vitest';
import { CreditLedger, pullStatus } from './jetstream-credit.js';

const ledger = (lanes = 2, threshold = 4) =>
  new CreditLedger({ lanes, expiresMs: 200, slackMs: 100, threshold });

describe('CreditLedger', () => {
  it('asks for every free slot when nothing is on its way, and no more', () => {
    const credit = ledger();
    expect(credit.take(16, 0)).toEqual({ lane: 0, n: 1, batch: 16 });
    expect(credit.outstanding).toBe(16);
    expect(credit.take(16, 0)).toBeUndefined();
  });

  it('counts each delivery against its lane, and frees the lane once all of it came', () => {
    const credit = ledger();
    credit.take(2, 0);
    expect(credit.delivered(0)).toBe(true);
    expect(credit.delivered(0)).toBe(true);
    expect(credit.outstanding).toBe(0);
    expect(credit.open).toBe(false);
    // More than was asked: reported, never counted below zero.
    expect(credit.delivered(0)).toBe(false);
    expect(credit.outstanding).toBe(0);
    expect(credit.take(3, 0)).toEqual({ lane: 0, n: 2, batch: 3 });
  });

  it('waits for the threshold while a request is open, but asks at once when none is', () => {
    const credit = ledger(4, 4);
    credit.take(10, 0);
    for (let i = 0; i < 3; i++) credit.delivered(0);
    // 3 slots went to work; 2 more freed: 12 free, 7 on their way: 5 worth asking for.
    expect(credit.take(9, 0)).toBeUndefined();
    expect(credit.take(10, 0)).toBeUndefined();
    expect(credit.take(11, 0)).toEqual({ lane: 1, n: 1, batch: 4 });
    for (let i = 0; i < 11; i++) credit.delivered(i < 7 ? 0 : 1);
    expect(credit.open).toBe(false);
    expect(credit.take(1, 0)).toEqual({ lane: 0, n: 2, batch: 1 });
  });

  it('gives back what a request had left when it ends with a status, and ignores a late one', () => {
    const credit = ledger();
    credit.take(8, 0);
    credit.delivered(0);
    expect(credit.ended(0, 1)).toBe(7);
    expect(credit.outstanding).toBe(0);
    credit.take(8, 0);
    // The status of request 1 arriving again (or late) says nothing of request 2.
    expect(credit.ended(0, 1)).toBe(0);
    expect(credit.outstanding).toBe(8);
  });

  it('never has more requests open than lanes', () => {
    const credit = ledger(2, 1);
    expect(credit.take(1, 0)?.lane).toBe(0);
    expect(credit.take(2, 0)?.lane).toBe(1);
    expect(credit.take(3, 0)).toBeUndefined();
  });

  it('presumes a request over once its expiry and the margin have passed', () => {
    const credit = ledger();
    credit.take(4, 1000);
    expect(credit.expire(1300)).toBe(0);
    expect(credit.open).toBe(true);
    expect(credit.expire(1301)).toBe(1);
    expect(credit.open).toBe(false);
    expect(credit.outstanding).toBe(0);
  });

  it('gives open requests a full expiry again after a reconnect', () => {
    const credit = ledger();
    credit.take(4, 1000);
    credit.reconnected(5000);
    expect(credit.expire(5300)).toBe(0);
    expect(credit.expire(5301)).toBe(1);
    // A request taken after the reconnect keeps its own deadline.
    credit.take(4, 6000);
    credit.reconnected(6001);
    expect(credit.expire(6302)).toBe(1);
  });
});

describe('pullStatus', () => {
  it.each([
    [100, 'Idle Heartbeat', 'alive'],
    [408, 'Request Timeout', 'ended'],
    [404, 'No Messages', 'ended'],
    [409, 'Leadership Change', 'moved'],
    [409, 'Server Shutdown', 'moved'],
    [409, 'Consumer Deleted', 'gone'],
    [503, '', 'gone'],
    [409, 'Exceeded MaxWaiting', 'refused'],
    [409, 'Exceeded MaxRequestBatch of 10', 'refused'],
    [400, 'Bad Request - heartbeat value too large', 'refused'],
    [423, 'Nats-Pin-Id mismatch', 'unknown'],
  ] as const)('reads %i %s as %s', (code, description, kind) => {
    expect(pullStatus(code, description)).toBe(kind);
  });
});
