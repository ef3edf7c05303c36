import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import type { Notifier, NotifyUrlGuard } from '#app/ports.ts';
import { addressProblem, type EgressPolicy, hostOf, urlProblem } from '#domain/egress-policy.ts';

/** The contract's acknowledgement window: a merchant has 10 s to answer 2xx. */
export const NOTIFY_TIMEOUT_MS = 10_000;
/** How much of a merchant's answer is read: its status is all that counts. */
export const MAX_RESPONSE_BYTES = 16 * 1024;
/** A notify URL's name is resolved at most this long while a payment is being created (best effort). */
const VALIDATION_LOOKUP_MS = 2_000;

export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * The ONE way the gateway calls a merchant-supplied URL. The policy (`#domain/egress-policy.ts`) is applied to the
 * URL, then to every address its name resolves to, and the connection is made to exactly that checked address
 * (pinned: a DNS answer that changes afterwards cannot redirect it). No redirects are followed, the answer is read
 * up to {@link MAX_RESPONSE_BYTES}, and the whole exchange ends after the timeout.
 */
export class GuardedEgress implements Notifier, NotifyUrlGuard {
  constructor(
    private readonly policy: EgressPolicy,
    private readonly options: { timeoutMs?: number; resolve?: Resolver } = {},
  ) {}

  /** Why `url` may not be a notification target, checked when it is accepted; `undefined` when it may. */
  async problem(url: string): Promise<string | undefined> {
    const syntactic = urlProblem(url, this.policy);
    if (syntactic) return syntactic;
    const host = hostOf(new URL(url));
    if (isIP(host)) return undefined;
    // A name that does not resolve now may later: accepted, and checked again at every connection.
    const addresses = await withTimeout(this.resolve(host), VALIDATION_LOOKUP_MS).catch(() => []);
    return addresses.map(({ address }) => addressProblem(address, this.policy)).find(Boolean);
  }

  async post(url: string, body: string, headers: Record<string, string>) {
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    const refused = urlProblem(url, this.policy);
    if (refused) return { error: `egress refused: ${refused}`.slice(0, 200), latencyMs: 0 };
    try {
      // The merchant's answer is read up to MAX_RESPONSE_BYTES: its status is all that counts.
      let read = 0;
      const httpStatus = await this.send(new URL(url), 'POST', body, headers, (chunk, stop) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) stop();
      });
      return { httpStatus, latencyMs: latencyMs() };
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'error';
      return { error: reason.slice(0, 200), latencyMs: latencyMs() };
    }
  }

  private resolve(host: string) {
    return (this.options.resolve ?? systemResolver)(host);
  }

  /** Resolves, refuses any non-public answer, and hands the socket exactly the addresses it checked. */
  private readonly pinnedLookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname)
      .then((addresses) => {
        const problem = addresses.length
          ? addresses.map(({ address }) => addressProblem(address, this.policy)).find(Boolean)
          : `${hostname} did not resolve`;
        if (problem) throw new Error(`egress refused: ${problem}`);
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, '', 4));
  };

  /**
   * GETs a file from a URL a channel handed out (e.g. Alipay's `bill_download_url`), under the same policy and pinning
   * as a notification: a 200 answer's bytes, or a throw (refused URL or address, another status, more than
   * `maxBytes`, the timeout).
   */
  async download(url: string, maxBytes: number): Promise<Buffer> {
    const refused = urlProblem(url, this.policy);
    if (refused) throw new Error(`egress refused: ${refused}`);
    const chunks: Buffer[] = [];
    let read = 0;
    const status = await this.send(new URL(url), 'GET', '', {}, (chunk, stop) => {
      read += chunk.length;
      if (read > maxBytes) return stop(new Error(`the file is larger than ${maxBytes} bytes`));
      chunks.push(chunk);
    });
    if (status !== 200) throw new Error(`download answered HTTP ${status}`);
    return Buffer.concat(chunks);
  }

  /**
   * One exchange with the pinned lookup; resolves the answer's status once its body is read or `onChunk` stopped
   * reading it; rejects on a connection error, the timeout, or a stop with an error.
   */
  private send(
    url: URL,
    method: 'GET' | 'POST',
    body: string,
    headers: Record<string, string>,
    onChunk: (chunk: Buffer, stop: (error?: Error) => void) => void,
  ): Promise<number> {
    const timeoutMs = this.options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
          lookup: this.pinnedLookup,
          // A fresh connection per request: a pooled socket would skip the lookup (and its check).
          agent: false,
          timeout: timeoutMs,
        },
        (response) => {
          let stopped: Error | undefined;
          const stop = (error?: Error) => {
            stopped = error;
            response.destroy();
          };
          response.on('data', (chunk: Buffer) => onChunk(chunk, stop));
          const done = () => (stopped ? reject(stopped) : resolve(response.statusCode ?? 0));
          response.on('close', done);
          response.on('error', done);
        },
      );
      const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.on('close', () => clearTimeout(timer));
      req.end(body);
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);
}
