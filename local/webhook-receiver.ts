import { createServer, type Server } from 'node:http';
import { hexEquals, hmacHex } from '#domain/signing.ts';

/** What the demo merchant's endpoint saw of one delivery. */
export interface ReceivedNotification {
  eventId: string;
  type: string;
  signatureValid: boolean;
  at: string;
}

/** Verifies `X-Signature: t=…,v1=…` over `t + "." + raw body` as API.md defines it, with a 5-minute tolerance. */
export function verifyNotificationSignature(
  secret: string,
  header: string | undefined,
  body: string,
  now = Date.now(),
) {
  const parts = Object.fromEntries((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(now / 1000 - t) > 300) return false;
  return hexEquals(hmacHex(secret, `${t}.${body}`), parts.v1);
}

/**
 * A merchant's webhook endpoint for the local demo: verifies each notification's signature, acknowledges with 204,
 * and reports it (the demo prints deliveries as they arrive). `failFirst` makes it refuse the first N deliveries,
 * to watch the retry schedule work.
 */
export async function startWebhookReceiver(options: {
  port: number;
  secret: () => string;
  onNotification: (notification: ReceivedNotification) => void;
  failFirst?: number;
}): Promise<{ url: string; stop(): Promise<void> }> {
  let refused = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signatureValid = verifyNotificationSignature(options.secret(), req.headers['x-signature'] as string, body);
      let type = 'unknown';
      try {
        type = String((JSON.parse(body) as { type?: string }).type);
      } catch {
        // reported as unknown
      }
      options.onNotification({
        eventId: String(req.headers['x-event-id'] ?? ''),
        type,
        signatureValid,
        at: new Date().toISOString(),
      });
      if (refused < (options.failFirst ?? 0)) {
        refused++;
        res.writeHead(503).end();
        return;
      }
      res.writeHead(signatureValid ? 204 : 401).end();
    });
  });
  await new Promise<void>((done) => server.listen(options.port, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('webhook receiver has no address');
  return {
    url: `http://127.0.0.1:${address.port}/webhooks/pay-gateway`,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
