import { describe, expect, it } from 'vitest';
import { checkPrefix, serviceNames } from './names.js';

describe('serviceNames', () => {
  it('builds every name of PROTOCOL.md from the service and prefix', () => {
    const names = serviceNames('orders');
    expect(names).toMatchObject({
      bucket: 'handover_orders',
      tasks: 'handover.orders.tasks',
      queue: 'orders',
      allEvents: 'handover.orders.events.>',
    });
    expect(names.events('w-1')).toBe('handover.orders.events.w-1');
    expect(serviceNames('orders', 'acme.prod').tasks).toBe('acme.prod.orders.tasks');
  });
});

describe('checkPrefix', () => {
  it.each(['handover', 'acme.prod', 'a-b_c.d'])('accepts %s', (prefix) => {
    expect(checkPrefix(prefix)).toBeUndefined();
  });

  it.each(['', '.a', 'a.', 'a..b', 'a.*', 'a.>', 'a b', 3])(
    'refuses %j with HANDOVER_E_INVALID_OPTION',
    (prefix) => {
      expect(checkPrefix(prefix)).toMatchObject({ code: 'HANDOVER_E_INVALID_OPTION' });
    },
  );
});
