import { ipVersion, isHostAddress } from './address.js';
import { expectOption } from './validate.js';

/** One line of a hosts file that maps an address to names. */
export interface HostsEntry {
  /** The address as written, e.g. `172.17.0.2` or `fe80::1%eth0`. */
  readonly address: string;
  /** The names on the line, as written (hosts files compare them case-insensitively). */
  readonly names: readonly string[];
  /** The 1-based line number in the file. */
  readonly line: number;
}

/** The entries of a hosts file and the numbers of the lines that were ignored. */
export interface HostsScan {
  readonly entries: readonly HostsEntry[];
  readonly ignoredLines: readonly number[];
}

// Only spaces and tabs separate fields; `\r` too, so CRLF files parse like LF files.
const separator = /[ \t\r]+/;

/** Parses hosts-file text, keeping the numbers of lines that are neither blank nor an entry. */
export function scanHosts(text: string): HostsScan {
  const entries: HostsEntry[] = [];
  const ignoredLines: number[] = [];
  text.split('\n').forEach((raw, index) => {
    const hash = raw.indexOf('#');
    const fields = (hash === -1 ? raw : raw.slice(0, hash)).split(separator).filter(Boolean);
    const [address, ...names] = fields;
    if (address === undefined) return;
    // A line without names is dropped too: the resolver needs at least a canonical name.
    if (ipVersion(address) === 0 || names.length === 0) ignoredLines.push(index + 1);
    else entries.push({ address, names, line: index + 1 });
  });
  return { entries, ignoredLines };
}

/**
 * Parses the text of a hosts file (`/etc/hosts`) into its entries, in file order. `#` starts a
 * comment anywhere on a line; fields are separated by runs of spaces or tabs; LF and CRLF line
 * endings both work. A line whose first field is not an IPv4 or IPv6 address (a zone id such as
 * `fe80::1%eth0` is allowed), or that has no name after the address, is skipped. Loopback and
 * other special addresses are kept: this is a parser, not a lookup.
 *
 * @throws {@link IdentityError} `HANDOVER_E_INVALID_OPTION` when `text` is not a string.
 */
export function parseHosts(text: string): HostsEntry[] {
  expectOption(typeof text === 'string', 'text', 'a string', text);
  return [...scanHosts(text).entries];
}

/** What a hosts file says about one host name. */
export interface HostMatch {
  readonly addresses: readonly string[];
  readonly aliases: readonly string[];
}

/**
 * The non-loopback addresses that `hostname` maps to, in file order, and the other names of
 * those lines. Loopback lines are skipped whole: their other names (`localhost`, Debian's FQDN
 * on `127.0.1.1`) say nothing about the host's place on a network.
 */
export function findHost(entries: readonly HostsEntry[], hostname: string): HostMatch {
  const wanted = hostname.toLowerCase();
  // Keyed by lower case so `Web-0` and `web-0` count once; the first spelling is reported.
  const addresses = new Map<string, string>();
  const aliases = new Map<string, string>();
  for (const { address, names } of entries) {
    if (!names.some((name) => name.toLowerCase() === wanted) || !isHostAddress(address)) continue;
    if (!addresses.has(address.toLowerCase())) addresses.set(address.toLowerCase(), address);
    for (const name of names) {
      const key = name.toLowerCase();
      if (key !== wanted && !aliases.has(key)) aliases.set(key, name);
    }
  }
  return { addresses: [...addresses.values()], aliases: [...aliases.values()] };
}
