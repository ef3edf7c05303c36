import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyNotificationSignature } from '../../../local/webhook-receiver.ts';

/** The merchant's webhook endpoint as the fault suite sees it. */
export interface MerchantEndpoint {
  url: string;
  /** Every delivery by event id: how many times it arrived (a merchant applies each id once). */
  received: Map<string, number>;
  /** Deliveries whose signature did not verify (must stay 0). */
  badSignatures: number;
  /**
   * Runs `action` for the next delivery whose body `matches`, instead of answering (the test kills the gateway there:
   * the merchant has the notification, the gateway never hears back).
   */
  onNextDelivery(matches: (body: string) => boolean, action: (eventId: string) => void): void;
  stop(): Promise<void>;
}

/**
 * A merchant endpoint that verifies each notification's signature, counts deliveries per event id and acknowledges
 * with 204; an answer is held back while a hook runs.
 */
export async function startMerchantEndpoint(secret: () => string): Promise<MerchantEndpoint> {
  const hooks: { matches: (body: string) => boolean; action: (eventId: string) => void }[] = [];
  const endpoint = {
    received: new Map<string, number>(),
    badSignatures: 0,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const eventId = String(req.headers['x-event-id'] ?? '');
      if (!verifyNotificationSignature(secret(), req.headers['x-signature'] as string | undefined, body)) {
        endpoint.badSignatures += 1;
        res.writeHead(401).end();
        return;
      }
      endpoint.received.set(eventId, (endpoint.received.get(eventId) ?? 0) + 1);
      const hook = hooks.findIndex(({ matches }) => matches(body));
      if (hook >= 0) {
        hooks.splice(hook, 1)[0]?.action(eventId);
        return; // no answer: the caller is gone
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return Object.assign(endpoint, {
    url: `http://127.0.0.1:${port}/webhooks`,
    onNextDelivery(matches: (body: string) => boolean, action: (eventId: string) => void) {
      hooks.push({ matches, action });
    },
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  });
}
