import { TimeoutError } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { apiError, jetStreamDisabled, noStreamLeader } from '../test/js-errors.js';
import {
  alreadyExists,
  cannotPlaceReplicas,
  isJetStreamNotEnabled,
  transientReason,
} from './jetstream-errors.js';

describe('transientReason', () => {
  it('retries timeouts, also wrapped', () => {
    expect(transientReason(new TimeoutError())).toBe('timeout');
    expect(transientReason(new Error('x', { cause: new TimeoutError() }))).toBe('timeout');
  });

  it('retries a publish that no stream leader answered', () => {
    expect(transientReason(noStreamLeader('jobs.x'), 'publish')).toMatch(/no stream leader/);
    expect(transientReason(noStreamLeader('$JS.API.INFO'), 'api')).toBe('no responders');
  });

  it.each([
    [10008, 503, 'JetStream system temporarily unavailable'],
    [10009, 500, 'JetStream cluster can not handle request'],
    [10004, 503, 'incomplete results'],
    [10005, 400, 'no suitable peers for placement, peer offline'],
  ])('retries err_code %i', (errCode, status, description) => {
    expect(transientReason(apiError(status, errCode, description))).toBe(
      `${errCode} ${description}`,
    );
  });

  it.each([
    ['a stream that is not there', apiError(404, 10059, 'stream not found')],
    ['too few JetStream nodes', apiError(400, 10005, 'no suitable peers for placement')],
    [
      'a non-clustered server',
      apiError(500, 10074, 'replicas > 1 not supported in non-clustered mode'),
    ],
    [
      'a conflicting stream',
      apiError(400, 10058, 'stream name already in use with a different configuration'),
    ],
    ['a lost compare-and-set', apiError(400, 10071, 'wrong last sequence: 4')],
    ['an account without JetStream', jetStreamDisabled()],
    ['anything else', new Error('boom')],
  ])('does not retry %s', (_, error) => {
    expect(transientReason(error)).toBeUndefined();
  });
});

describe('cannotPlaceReplicas', () => {
  it('is true when fewer replicas may fit', () => {
    expect(
      cannotPlaceReplicas(apiError(500, 10074, 'replicas > 1 not supported in non-clustered mode')),
    ).toBe(true);
    expect(cannotPlaceReplicas(apiError(400, 10005, 'no suitable peers for placement'))).toBe(true);
    expect(cannotPlaceReplicas(apiError(503, 10023, 'insufficient resources'))).toBe(true);
  });

  it('is false for a node that is only down, and for other errors', () => {
    expect(
      cannotPlaceReplicas(apiError(400, 10005, 'no suitable peers for placement, peer offline')),
    ).toBe(false);
    expect(cannotPlaceReplicas(new TimeoutError())).toBe(false);
    expect(cannotPlaceReplicas(apiError(404, 10059, 'stream not found'))).toBe(false);
  });
});

describe('alreadyExists', () => {
  it('recognises a stream or consumer created by someone else', () => {
    expect(
      alreadyExists(
        apiError(400, 10058, 'stream name already in use with a different configuration'),
      ),
    ).toBe(true);
    expect(alreadyExists(apiError(400, 10013, 'consumer name already in use'))).toBe(true);
    expect(alreadyExists(apiError(404, 10059, 'stream not found'))).toBe(false);
  });
});

describe('isJetStreamNotEnabled', () => {
  it('recognises the class nats.js does not export', () => {
    expect(isJetStreamNotEnabled(noStreamLeader('x'))).toBe(true);
    expect(isJetStreamNotEnabled(new Error('jetstream is not enabled'))).toBe(false);
  });
});
