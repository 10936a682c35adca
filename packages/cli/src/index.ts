// `@handover/cli`: the `handover` command (bin), and the same as a function for scripts.
export { CliError, type CliErrorCode, cliErrorCodes, exitCodes } from './errors.js';
export type { CliIo, Output } from './io.js';
export { run } from './run.js';
