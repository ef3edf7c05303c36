import { BlockList, isIP } from 'node:net';

/**
 * Callback source allowlists: the address ranges a channel publishes for its callbacks (`110.75.0.0/16`,
 * `2400:1234::/32`; a bare address means just that address). An empty or absent list allows every source (the local
 * stack, or a channel that publishes none); otherwise a callback from elsewhere is refused before anything is parsed.
 */

const CIDR = /^([^/\s]+)(?:\/(\d{1,3}))?$/;
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** A parsed range, or why the text is not one. */
function parseRange(text: string): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } | string {
  const match = CIDR.exec(text.trim());
  const version = match?.[1] ? isIP(match[1]) : 0;
  if (!match?.[1] || version === 0) return `${JSON.stringify(text)} is not an address or CIDR range`;
  const bits = version === 4 ? 32 : 128;
  const prefix = match[2] === undefined ? bits : Number(match[2]);
  if (prefix > bits) return `${JSON.stringify(text)}: the prefix must be 0-${bits}`;
  return { network: match[1], prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The problems of a list of ranges (empty when every entry is a valid address or CIDR range). */
export function allowlistProblems(ranges: readonly string[]): string[] {
  return ranges.flatMap((range) => {
    const parsed = parseRange(range);
    return typeof parsed === 'string' ? [parsed] : [];
  });
}

/** An IPv4 client seen on a dual-stack socket arrives as `::ffff:a.b.c.d`; it is matched as the IPv4 address. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const mapped = MAPPED_IPV4.exec(address)?.[1];
  const plain = mapped ?? address;
  const version = isIP(plain);
  if (version === 0) return undefined;
  return { address: plain, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Whether a callback from `sourceIp` (as API Gateway reports it) may be processed: always without a list; with one,
 * only from inside a listed range. An unknown or malformed source is refused when a list exists.
 */
export function sourceAllowed(sourceIp: string | undefined, ranges: readonly string[] | undefined): boolean {
  if (!ranges?.length) return true;
  const source = sourceIp ? normalise(sourceIp) : undefined;
  if (!source) return false;
  const list = new BlockList();
  for (const range of ranges) {
    const parsed = parseRange(range);
    if (typeof parsed !== 'string') list.addSubnet(parsed.network, parsed.prefix, parsed.family);
  }
  return list.check(source.address, source.family);
}
