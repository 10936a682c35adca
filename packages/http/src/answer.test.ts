import { describe, expect, it } from 'vitest';
import { pathOf } from './answer.js';

/** What pathOf must return: everything before the first `?` or `#`. */
const reference = (url: string): string => url.split(/[?#]/, 1)[0] as string;

describe('pathOf', () => {
  it('drops the query string and the fragment, short and long URLs alike', () => {
    expect(pathOf(undefined)).toBe('/');
    expect(pathOf('/')).toBe('/');
    expect(pathOf('/orders?token=secret')).toBe('/orders');
    expect(pathOf('/orders#top')).toBe('/orders');
    expect(pathOf('/a#b?c')).toBe('/a');
    expect(pathOf('/a?b#c')).toBe('/a');
    const long = `/${'x'.repeat(100)}`;
    expect(pathOf(`${long}?token=secret`)).toBe(long);
    expect(pathOf(`${long}#f?token=secret`)).toBe(long);
    expect(pathOf(long)).toBe(long);
  });

  it('agrees with a reference on URLs of every length up to 90', () => {
    const alphabet = '/ab?#=%';
    for (let length = 0; length <= 90; length++) {
      for (let n = 0; n < 20; n++) {
        let url = '';
        for (let i = 0; i < length; i++) url += alphabet[(length * 31 + n * 17 + i * i) % 7];
        expect(pathOf(url), JSON.stringify(url)).toBe(reference(url));
      }
    }
  });
});
