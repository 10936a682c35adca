import { IdentityError } from './errors.js';
import { closeFile, fileSize, openFile, type Program, perform, readInto } from './io.js';

/** The largest hosts file read: real ones are a few hundred bytes, ad-block lists a few MB. */
export const maxHostsBytes = 1024 * 1024;

const chunkBytes = 64 * 1024;

/** The text of a hosts file, or why it could not be read (then the host is treated as plain). */
export type HostsText =
  | {
      readonly readable: true;
      readonly text: string;
      /** 1-based numbers of lines whose content (before any `#`) is not UTF-8: left out. */
      readonly undecodableLines: readonly number[];
    }
  | { readonly readable: false; readonly reason: string };

interface Capped {
  readonly size: number;
  readonly bytes: Uint8Array;
}

function* readCapped(path: string): Program<Capped> {
  const fd = yield* perform(openFile(path));
  try {
    const size = yield* perform(fileSize(fd));
    if (size > maxHostsBytes) return { size, bytes: new Uint8Array(0) };
    // Read up to one byte past the limit whatever stat said: the size is stale when the file
    // grows, and 0 for pipes and special files such as /dev/zero.
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (total <= maxHostsBytes) {
      const chunk = new Uint8Array(Math.min(chunkBytes, maxHostsBytes + 1 - total));
      const count = yield* perform(readInto(fd, chunk));
      if (count === 0) break;
      chunks.push(chunk.subarray(0, count));
      total += count;
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return { size, bytes };
  } finally {
    yield* perform(closeFile(fd));
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const newline = 0x0a;
const hash = 0x23;

/**
 * Decodes the file line by line, as glibc reads it: a comment may hold any bytes (a Latin-1
 * `é` written by an old editor), and a line whose content is not UTF-8 is left out (and
 * reported), not the whole file. A NUL byte means the file is not text at all.
 */
function decode(path: string, bytes: Uint8Array): { text: string; undecodableLines: number[] } {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new IdentityError(
      'HANDOVER_E_HOSTS_BINARY',
      `Expected hosts file ${path} to be UTF-8 text, got a NUL byte at offset ${nul}`,
    );
  }
  const lines: string[] = [];
  const undecodableLines: number[] = [];
  for (let start = 0; start <= bytes.length; ) {
    const found = bytes.indexOf(newline, start);
    const end = found === -1 ? bytes.length : found;
    const comment = bytes.subarray(start, end).indexOf(hash);
    // `#` is one byte in UTF-8 and never part of a longer sequence: what follows it is a comment.
    const content = bytes.subarray(start, comment === -1 ? end : start + comment);
    try {
      lines.push(utf8.decode(content));
    } catch {
      lines.push('');
      undecodableLines.push(lines.length);
    }
    start = end + 1;
  }
  return { text: lines.join('\n'), undecodableLines };
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? code : error.message;
  }
  return String(error);
}

/**
 * Reads a hosts file as text. A file that cannot be read (missing, no permission, a directory)
 * is reported, not thrown: plain hosts and some sandboxes have no usable `/etc/hosts`. A file
 * that is read but cannot be a hosts file (too large, binary) throws, because it is broken.
 */
export function* readHostsText(path: string): Program<HostsText> {
  let capped: Capped;
  try {
    capped = yield* readCapped(path);
  } catch (error) {
    return { readable: false, reason: describeFailure(error) };
  }
  if (capped.size > maxHostsBytes || capped.bytes.length > maxHostsBytes) {
    const got =
      capped.size > maxHostsBytes ? `${capped.size} bytes` : `more than ${maxHostsBytes} bytes`;
    throw new IdentityError(
      'HANDOVER_E_HOSTS_TOO_LARGE',
      `Expected hosts file ${path} to be at most ${maxHostsBytes} bytes (1 MiB), got ${got}`,
    );
  }
  return { readable: true, ...decode(path, capped.bytes) };
}
