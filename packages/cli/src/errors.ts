import { HandoverError } from '@handover/core';

/**
 * Every error code of `@handover/cli`. `docs/errors.md` documents each one; a test fails when
 * the two disagree.
 */
export const cliErrorCodes = [
  'HANDOVER_E_CLI_USAGE',
  'HANDOVER_E_CLI_CONNECT',
  'HANDOVER_E_CLI_NO_SERVICE',
  'HANDOVER_E_CLI_BROKER',
] as const;

/** A stable error code of `@handover/cli`. */
export type CliErrorCode = (typeof cliErrorCodes)[number];

/** Exit codes of the `handover` command. */
export const exitCodes = {
  /** The command did what it was asked. */
  ok: 0,
  /** It could not: the broker is unreachable, the service does not exist, a request failed. */
  failed: 1,
  /** It was asked wrongly: an unknown command or flag, a missing argument, a bad value. */
  usage: 2,
} as const;

/** An error of the `handover` command, with a stable `code`; its message never holds secrets. */
export class CliError extends HandoverError<CliErrorCode> {
  constructor(code: CliErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(code, message, options);
    this.name = 'CliError';
  }

  /** The exit code this error ends the command with: 2 for a usage error, else 1. */
  get exitCode(): number {
    return this.code === 'HANDOVER_E_CLI_USAGE' ? exitCodes.usage : exitCodes.failed;
  }
}

/** A usage error: the command line is wrong (exit 2, with the usage on stderr). */
export const usageError = (message: string): CliError =>
  new CliError('HANDOVER_E_CLI_USAGE', message);
