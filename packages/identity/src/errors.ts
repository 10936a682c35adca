/**
 * Every error code `@handover/identity` can raise. `docs/errors.md` documents each one; a test
 * fails when the two disagree.
 */
export const identityErrorCodes = [
  'HANDOVER_E_INVALID_OPTION',
  'HANDOVER_E_IDENTITY_EMPTY',
  'HANDOVER_E_HOSTS_TOO_LARGE',
  'HANDOVER_E_HOSTS_BINARY',
] as const;

/** A stable error code of `@handover/identity`. */
export type IdentityErrorCode = (typeof identityErrorCodes)[number];

/**
 * Every warning code `@handover/identity` can report through `onWarning`. Warnings never stop
 * {@link readIdentity}; `docs/errors.md` lists them beside the error codes.
 */
export const identityWarningCodes = [
  'HANDOVER_W_HOSTS_UNREADABLE',
  'HANDOVER_W_HOSTS_LINE',
] as const;

/** A stable warning code of `@handover/identity`. */
export type IdentityWarningCode = (typeof identityWarningCodes)[number];

/** Something worth knowing that did not stop the identity from being read. */
export interface IdentityWarning {
  /** Stable, documented code, e.g. `HANDOVER_W_HOSTS_UNREADABLE`. */
  readonly code: IdentityWarningCode;
  /** What happened, naming the file and what was done instead. */
  readonly message: string;
}

/**
 * The error every function of `@handover/identity` throws. `code` is stable across releases
 * (match on it, not on the message); `cause` keeps the underlying error.
 *
 * It has the shape of `HandoverError` from `@handover/core` (`name`, `code`, `cause`) without
 * depending on core, so this package stays dependency-free.
 */
export class IdentityError<Code extends IdentityErrorCode = IdentityErrorCode> extends Error {
  /** Stable, documented code, e.g. `HANDOVER_E_HOSTS_TOO_LARGE`. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IdentityError';
    this.code = code;
  }
}
