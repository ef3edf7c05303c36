import { BlockList, isIP } from 'node:net';

/**
 * Where the gateway may send a request on a merchant's behalf (its `notify_url`): public `https` hosts only. Plain
 * `http` and loopback addresses are allowed only on the local stack (`allowLoopback`), which a deployed function can
 * never turn on (see `loadConfig`).
 */
export interface EgressPolicy {
  allowLoopback: boolean;
}

const LOOPBACK = { ipv4: new BlockList(), ipv6: new BlockList() };
LOOPBACK.ipv4.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.ipv6.addAddress('::1', 'ipv6');

/**
 * Every range that is not the public internet: private, loopback, link-local (metadata), CGNAT, ULA, reserved…
 * One list per family: a `BlockList` matches IPv4 addresses against IPv4-mapped IPv6 rules too.
 */
const NON_PUBLIC = { ipv4: new BlockList(), ipv6: new BlockList() };
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. the 169.254.169.254 metadata service
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
] as const) {
  NON_PUBLIC.ipv4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::ffff:0:0', 96], // IPv4-mapped: would smuggle any IPv4 address
  ['64:ff9b::', 96], // NAT64: likewise
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments, incl. Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique-local (ULA)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  NON_PUBLIC.ipv6.addSubnet(network, prefix, 'ipv6');
}

/** Names that never denote a public host, whatever a resolver says. */
const INTERNAL_NAME = /(^|\.)(localhost|local|localdomain|internal|intranet|lan|home\.arpa|corp)$/;

/** Why the gateway must not connect to `address`, or `undefined` when it may. */
export function addressProblem(address: string, policy: EgressPolicy): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (policy.allowLoopback && isLoopback(address)) return undefined;
  return NON_PUBLIC[type].check(address, type) ? `${address} is not a public address` : undefined;
}

/**
 * Why `value` is not an acceptable notification URL, judged without the network: scheme, credentials, and a host
 * that is a non-public IP literal or an internal name. `undefined` when acceptable. Names are resolved and checked
 * again when the URL is accepted and at every connection (DNS can change in between).
 */
export function urlProblem(value: string, policy: EgressPolicy): string | undefined {
  if (value.length > 2048 || !URL.canParse(value)) return 'not a valid URL';
  const url = new URL(value);
  if (url.protocol !== 'https:' && !(policy.allowLoopback && url.protocol === 'http:')) return 'must be https';
  if (url.username || url.password) return 'must not carry credentials';
  const host = hostOf(url);
  const loopbackName = host === 'localhost' || host.endsWith('.localhost'); // RFC 6761
  if (policy.allowLoopback && (loopbackName || isLoopback(host))) return undefined;
  if (url.protocol === 'http:') return 'plain http is allowed only to a loopback address';
  if (isIP(host)) return addressProblem(host, policy);
  if (!host.includes('.') || INTERNAL_NAME.test(host)) return `${host} is not a public host name`;
  return undefined;
}

function isLoopback(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return LOOPBACK.ipv4.check(address, 'ipv4');
  return family === 6 && LOOPBACK.ipv6.check(address, 'ipv6');
}

/** The URL's host as a resolver or `isIP` expects it: no IPv6 brackets, no trailing dot, lower case. */
export function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}
