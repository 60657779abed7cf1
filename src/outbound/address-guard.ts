/**
 * Which IP addresses outbound requests may reach: public unicast only, unless private networks are allowed. Loopback,
 * "this network", private (RFC 1918, unique local), shared (CGNAT), link-local (cloud metadata lives at 169.254.169.254),
 * multicast, documentation, benchmarking and reserved ranges are refused; IPv4-mapped and IPv4-compatible IPv6
 * addresses are judged by the IPv4 address they carry.
 */
import { BlockList, isIP } from 'node:net';

const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback (::1) and the deprecated IPv4-compatible range
  ['64:ff9b::', 96], // NAT64: would reach whatever IPv4 address it embeds
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d, also written ::ffff:XXXX:XXXX) carries. */
function mappedV4(v6: string): string | undefined {
  const lower = v6.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** Why `ip` may not be reached from outbound requests, or undefined when it is a public unicast address. */
export function refusalOf(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return `${ip} is not an IP address`;
  if (family === 6) {
    const v4 = mappedV4(ip);
    if (v4) return refusalOf(v4);
  }
  if (!NOT_PUBLIC.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return undefined;
  return `${ip} is a ${kindOf(ip, family)} address`;
}

function kindOf(ip: string, family: number): string {
  if (family === 4) {
    if (ip.startsWith('127.')) return 'loopback';
    if (ip.startsWith('169.254.')) return 'link-local';
    if (/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip)) return 'private';
    return 'non-public (reserved, shared or multicast)';
  }
  const l = ip.toLowerCase();
  if (l === '::1') return 'loopback';
  if (/^fe[89ab]/.test(l)) return 'link-local';
  if (/^f[cd]/.test(l)) return 'private (unique local)';
  return 'non-public (reserved or multicast)';
}
