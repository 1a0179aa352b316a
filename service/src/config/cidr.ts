/** IPv4/IPv6 networks: parsing, membership, and whether a network is private or local. */
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  readonly text: string;
  readonly family: 4 | 6;
  readonly prefix: number;
  /** The network's first address. */
  readonly first: string;
  contains(ip: string): boolean;
}

function v4ToBig(ip: string): bigint {
  return ip.split('.').reduce((acc, p) => (acc << 8n) + BigInt(Number(p)), 0n);
}
function bigToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}
function v6ToBig(ip: string): bigint {
  let s = ip;
  const v4 = s.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const n = v4ToBig(v4[1]!);
    s = s.slice(0, -v4[1]!.length) + ((n >> 16n) & 0xffffn).toString(16) + ':' + (n & 0xffffn).toString(16);
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}
function bigToV6(n: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(':');
}

export function parseCidr(text: string): Cidr | undefined {
  const m = text.trim().match(/^([^/]+)(?:\/(\d{1,3}))?$/);
  if (!m) return undefined;
  const addr = m[1]!;
  const family = isIP(addr);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return undefined;
  const width = BigInt(max);
  const value = family === 4 ? v4ToBig(addr) : v6ToBig(addr);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << (width - BigInt(prefix));
  const firstBig = value & mask;
  const first = family === 4 ? bigToV4(firstBig) : bigToV6(firstBig);
  const list = new BlockList();
  list.addSubnet(first, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return {
    text,
    family: family as 4 | 6,
    prefix,
    first,
    contains(ip: string): boolean {
      const f = isIP(ip);
      if (f === 0) return false;
      if (f === 6 && family === 4 && ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4) {
        return list.check(ip.slice(7), 'ipv4');
      }
      return f === family && list.check(ip, f === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

const LOCAL = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
].map((c) => parseCidr(c)!);

/** Private, loopback, shared or link-local: inside the deployment's own network, no country. */
export function isPrivateOrLocal(c: Cidr): boolean {
  return LOCAL.some((l) => l.family === c.family && l.prefix <= c.prefix && l.contains(c.first));
}

export function isPrivateAddress(ip: string): boolean {
  return LOCAL.some((l) => l.contains(ip));
}
