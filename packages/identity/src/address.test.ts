import { describe, expect, it } from 'vitest';
import { ipVersion, isHostAddress } from './address.js';

describe('ipVersion', () => {
  it.each([
    ['172.17.0.2', 4],
    ['fd00:10:244:1::5', 6],
    ['::ffff:10.0.0.1', 6],
    ['fe80::1%eth0', 6],
    ['fe80::1%', 0],
    ['10.0.0.1%eth0', 0],
    ['999.1.1.1', 0],
    ['10.0.0', 0],
    ['localhost', 0],
    ['', 0],
  ])('reads %j as version %i', (field, version) => {
    expect(ipVersion(field)).toBe(version);
  });
});

describe('isHostAddress', () => {
  it.each([
    '172.17.0.2',
    '10.244.1.7',
    '192.168.5.20',
    'fd00:10:244:1::5',
    '2001:db8::1',
    'fe80::1%eth0',
    '::ffff:10.0.0.1',
    '::ffff:a00:1',
  ])('accepts the network address %j', (address) => {
    expect(isHostAddress(address)).toBe(true);
  });

  it.each([
    '127.0.0.1',
    '127.0.1.1',
    '127.255.255.254',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '0:0:0:0:0:0:0:1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::FFFF:127.1.2.3',
    '::ffff:0.0.0.0',
    'fe00::0',
    'fe00::1',
    'fe00::2',
    'ff00::0',
    'ff02::1',
    'ff02::2',
    'not-an-address',
  ])('rejects the loopback, pseudo or non-address %j', (address) => {
    expect(isHostAddress(address)).toBe(false);
  });
});
