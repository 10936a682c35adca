import { describe, expect, it } from 'vitest';
import { IdentityError } from './errors.js';
import { hostId, sanitize, sanitizeId } from './sanitize.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof IdentityError) return error.code;
    throw error;
  }
  throw new Error('expected an IdentityError');
}

describe('sanitizeId', () => {
  it.each([
    ['3f4e5a6b7c8d', '3f4e5a6b7c8d'],
    ['orders-7d9f-x2k', 'orders-7d9f-x2k'],
    ['a.b', 'a_b'],
    ['*', '_'],
    ['>', '_'],
    ['my host', 'my_host'],
    ['wörker', 'w_rker'],
    ['🚀', '_'],
    ['a🚀b', 'a_b'],
    ['_lead_and_trail_', '_lead_and_trail_'],
    ['..', '__'],
    ['$SRV.PING', '_SRV_PING'],
    ['tab\there', 'tab_here'],
    ['\ud800', '_'],
  ])('turns %j into %j', (raw, id) => {
    expect(sanitizeId(raw)).toBe(id);
  });

  it('cuts the id to 128 characters', () => {
    expect(sanitizeId('x'.repeat(300))).toBe('x'.repeat(128));
    expect(sanitizeId('é'.repeat(300))).toBe('_'.repeat(128));
  });

  it('throws HANDOVER_E_IDENTITY_EMPTY for an empty string', () => {
    expect(codeOf(() => sanitizeId(''))).toBe('HANDOVER_E_IDENTITY_EMPTY');
  });

  it('throws HANDOVER_E_INVALID_OPTION with the received value for a non-string', () => {
    expect(() => sanitizeId(42 as unknown as string)).toThrow(
      'Expected `raw` to be a string, got 42 (number)',
    );
  });
});

describe('sanitize', () => {
  it('keeps at most maxLength characters', () => {
    expect(sanitize('abcdef', 3)).toBe('abc');
    expect(sanitize('', 3)).toBe('');
  });
});

describe('hostId', () => {
  it('appends -<pid> when a pid is given', () => {
    expect(hostId('laptop', 4121)).toBe('laptop-4121');
    expect(hostId('laptop.local', 7)).toBe('laptop_local-7');
  });

  it('uses the sanitised name alone without a pid', () => {
    expect(hostId('web-0', undefined)).toBe('web-0');
  });

  it('cuts the name so that the pid suffix still fits in 128 characters', () => {
    const id = hostId('h'.repeat(300), 4194304);
    expect(id).toBe(`${'h'.repeat(120)}-4194304`);
    expect(id).toHaveLength(128);
  });
});
