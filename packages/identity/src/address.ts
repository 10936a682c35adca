import { isIP } from 'node:net';

/**
 * The IP version of a hosts-file address field (4 or 6), or 0 when it is not an address. An
 * IPv6 zone id (`fe80::1%eth0`) is accepted whatever the Node version's `isIP` thinks of it.
 */
export function ipVersion(field: string): 0 | 4 | 6 {
  const zone = field.indexOf('%');
  if (zone === -1) {
    const version = isIP(field);
    return version === 4 || version === 6 ? version : 0;
  }
  return zone < field.length - 1 && isIP(field.slice(0, zone)) === 6 ? 6 : 0;
}

/** The eight 16-bit groups of a valid IPv6 address without its zone id. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 tail (`::ffff:127.0.0.1`) is two groups written in decimal.
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const [head = '', rest] = text.split('::');
  if (rest === undefined) return parse(head);
  const before = parse(head);
  const after = parse(rest);
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

function isSpecialIPv4(first: number, isZero: boolean): boolean {
  // 127/8 is loopback (Debian names the host `127.0.1.1`); 224/4 multicast; 0.0.0.0 is "none".
  return first === 127 || (first >= 224 && first < 240) || isZero;
}

/**
 * Whether an address can be the host's own address on a network: not loopback (`127.0.0.0/8`,
 * `::1`, `::ffff:127.x.x.x`), not unspecified, not multicast (`ff00::/8`, which Docker writes as
 * `ip6-mcastprefix`/`ip6-allnodes`), and not in the reserved `fe00::/9` (the kubelet writes
 * `fe00::0`, `fe00::1`, `fe00::2` pseudo-entries there).
 */
export function isHostAddress(field: string): boolean {
  const version = ipVersion(field);
  if (version === 4) {
    return !isSpecialIPv4(Number(field.slice(0, field.indexOf('.'))), field === '0.0.0.0');
  }
  if (version === 0) return false;
  const zone = field.indexOf('%');
  const groups = ipv6Groups(zone === -1 ? field : field.slice(0, zone));
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const prefixZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (prefixZero && g5 === 0 && g6 === 0 && g7 <= 1) return false;
  if (prefixZero && g5 === 0xffff) return !isSpecialIPv4(g6 >> 8, g6 === 0 && g7 === 0);
  return (g0 & 0xff00) !== 0xff00 && (g0 & 0xff80) !== 0xfe00;
}
