import { describe, expect, it } from 'vitest';
import { HandoverError, isHandoverError, TaskAbortedError } from './errors.js';

describe('isHandoverError', () => {
  it('recognises HandoverError and its subclasses, by code when given', () => {
    expect(isHandoverError(new TaskAbortedError())).toBe(true);
    expect(isHandoverError(new TaskAbortedError(), 'HANDOVER_E_TASK_ABORTED')).toBe(true);
    expect(isHandoverError(new HandoverError('HANDOVER_E_X', 'x'), 'HANDOVER_E_Y')).toBe(false);
  });

  it("recognises another package's error by its HANDOVER_E_ code (identity has no dependencies)", () => {
    const identityLike = Object.assign(new Error('bad'), { code: 'HANDOVER_E_INVALID_OPTION' });
    expect(isHandoverError(identityLike, 'HANDOVER_E_INVALID_OPTION')).toBe(true);
  });

  it('rejects everything else', () => {
    expect(isHandoverError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isHandoverError({ code: 'HANDOVER_E_INVALID_OPTION' })).toBe(false);
    expect(isHandoverError(undefined)).toBe(false);
  });
});
