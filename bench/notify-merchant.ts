import { createServer, type Server } from 'node:http';

/** The path prefix of a notify_url whose FIRST delivery the endpoint refuses (503); later ones are acknowledged. */
export const FAIL_FIRST_PREFIX = '/fail-first/';
/** The path prefix of a notify_url whose every delivery is acknowledged (204). */
export const ACK_PREFIX = '/ok/';

/**
 * A local merchant endpoint for the notification sample: `/ok/<key>` always answers 204, `/fail-first/<key>` answers
 * 503 to its first request and 204 afterwards, so each such notification needs exactly one scheduled retry. It only
 * counts; the integration tests check the signatures.
 */
export class SampleMerchantEndpoint {
  /** Requests per path, in arrival order of their statuses. */
  readonly statuses = new Map<string, number[]>();
  acknowledged = 0;
  refused = 0;
  base = '';
  private server?: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      // Drain the body: the sample trusts the gateway's signing (the integration tests verify it).
      req.resume();
      req.on('end', () => {
        const path = req.url ?? '/';
        const seen = this.statuses.get(path) ?? [];
        const status = path.startsWith(FAIL_FIRST_PREFIX) && seen.length === 0 ? 503 : 204;
        seen.push(status);
        this.statuses.set(path, seen);
        if (status === 204) this.acknowledged += 1;
        else this.refused += 1;
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('the sample merchant endpoint has no address');
    this.base = `http://127.0.0.1:${address.port}`;
  }

  /** How many distinct notify URLs have been acknowledged at least once. */
  acknowledgedPaths(): number {
    let count = 0;
    for (const statuses of this.statuses.values()) if (statuses.includes(204)) count += 1;
    return count;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }
}
