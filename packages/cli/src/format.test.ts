import { describe, expect, it } from 'vitest';
import { formatAge, formatClock, formatDuration, renderTable } from './format.js';

describe('formatDuration', () => {
  it('is short at every scale', () => {
    expect(
      [0, 420, 1234, 9999, 12_400, 303_000, 7_500_000, 273_600_000].map(formatDuration),
    ).toEqual(['0ms', '420ms', '1.2s', '9.9s', '12s', '5m03s', '2h05m', '3d04h']);
  });
});

describe('formatAge', () => {
  it('shows tenths below 10 s and never a negative age', () => {
    expect([-50, 0, 449, 2960, 65_000].map(formatAge)).toEqual([
      '0.0s',
      '0.0s',
      '0.4s',
      '2.9s',
      '1m05s',
    ]);
  });
});

describe('formatClock', () => {
  it('prints the time of day with milliseconds in the given zone', () => {
    expect(formatClock(Date.UTC(2026, 10, 22, 10, 0, 1, 250), 'UTC')).toBe('10:00:01.250');
    expect(formatClock(Date.UTC(2026, 10, 22, 23, 59, 59, 5), 'UTC')).toBe('23:59:59.005');
  });
});

describe('renderTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(
      renderTable(
        ['A', 'BB', 'C'],
        [
          ['long', 'x', ''],
          ['y', 'zzz', 'end'],
        ],
      ),
    ).toBe(['A     BB   C', 'long  x', 'y     zzz  end'].join('\n'));
  });
});
