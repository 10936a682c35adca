export {
  IdentityError,
  type IdentityErrorCode,
  type IdentityWarning,
  type IdentityWarningCode,
  identityErrorCodes,
  identityWarningCodes,
} from './errors.js';
export { type HostsEntry, parseHosts } from './hosts.js';
export {
  type Identity,
  type IdentitySource,
  readIdentity,
  readIdentitySync,
} from './identity.js';
export type { ReadIdentityOptions } from './options.js';
export { sanitizeId } from './sanitize.js';
