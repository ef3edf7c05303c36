// Over 250 lines: the notification pipeline end to end (relay, queue, retries, DLQ, replay, crash) shares one local runtime.
import { createServer, type Server } from 'node:http';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getContainer } from '#adapters/container.ts';
import { STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { getEvent, replayEvent } from '#app/notifications.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { expiryBucket } from '#domain/expiry.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { handler as expireBucketHandler } from '../../functions/expire-bucket.ts';
import { handler as notifyHandler } from '../../functions/notify.ts';
import { handler as notifyAttemptHandler } from '../../functions/notify-attempt.ts';
import { handler as notifyFailedHandler } from '../../functions/notify-failed.ts';
import { handler as relayHandler } from '../../functions/outbox-relay.ts';
import { verifyNotificationSignature } from '../../local/webhook-receiver.ts';
import { newMerchant, uniqueId } from '../support/fixtures.ts';
import { eventually, type LocalWorkflows, startLocalWorkflows } from '../support/local-workflows.ts';

/** A merchant endpoint whose behaviour is chosen by path: `/ok/…`, `/fail-N/…` (fails N times first), `/down/…`. */
class MerchantEndpoint {
  readonly received: { path: string; eventId: string; type: string; signatureValid: boolean }[] = [];
  private readonly failures = new Map<string, number>();
  private server?: Server;
  base = '';

  constructor(private readonly secretOf: () => string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        this.received.push({
          path,
          eventId: String(req.headers['x-event-id']),
          type: String((JSON.parse(body) as { type: string }).type),
          signatureValid: verifyNotificationSignature(this.secretOf(), String(req.headers['x-signature']), body),
        });
        const seen = (this.failures.get(path) ?? 0) + 1;
        this.failures.set(path, seen);
        const failFirst = path.startsWith('/down/')
          ? Number.POSITIVE_INFINITY
          : Number(/^\/fail-(\d+)/.exec(path)?.[1] ?? 0);
        res.writeHead(seen <= failFirst ? 503 : 204).end();
      });
    });
    await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    this.base = `http://127.0.0.1:${address.port}`;
  }

  stop(): Promise<void> {
    return new Promise((done) => this.server?.close(() => done()));
  }
}

const RETRIES = 3;
let workflows: LocalWorkflows;
let endpoint: MerchantEndpoint;
let merchant: Merchant;
let secret: string;
let crashNextRelayBatch = false;
const merchantIds = new Set<string>();

/** Only this file's records: other files write to the same table at the same time. */
function isOurs(record: DynamoDBRecord): boolean {
  return merchantIds.has(String(record.dynamodb?.NewImage?.merchantId?.S));
}

beforeAll(async () => {
  // The schedule is configuration: three quick retries here, each waited 1000× faster by the local state machines.
  process.env.NOTIFY_RETRY_SCHEDULE = '1,2,3';
  workflows = await startLocalWorkflows({
    notifyHandler,
    streamHandler: async (event: DynamoDBStreamEvent, context) => {
      if (crashNextRelayBatch) {
        crashNextRelayBatch = false;
        throw new Error('injected crash: the relay died before sending anything');
      }
      return relayHandler(event, context);
    },
    streamFilter: isOurs,
    stateMachines: [
      {
        ...STATE_MACHINES.notifyRetry,
        tasks: { NotifyAttemptFunctionArn: notifyAttemptHandler, NotifyFailedFunctionArn: notifyFailedHandler },
      },
      { ...STATE_MACHINES.orderExpiry, tasks: { ExpireBucketFunctionArn: expireBucketHandler } },
    ],
  });
  ({ merchant, secret } = await newMerchant(getContainer()));
  merchantIds.add(merchant.id);
  endpoint = new MerchantEndpoint(() => secret);
  await endpoint.start();
});

afterAll(async () => {
  await workflows?.stop();
  await endpoint?.stop();
});

const schema = createPaymentSchema({ allowLoopbackHttp: true });

async function paidRecharge(path: string): Promise<Payment> {
  const container = getContainer();
  const body = parseInput(schema, {
    order_no: uniqueId('N'),
    amount: '10.00',
    subject: 'notify',
    channel: 'SANDBOX',
    account_id: uniqueId('acct'),
    notify_url: `${endpoint.base}${path}`,
  });
  const { payment } = await createPayment(container, merchant, body);
  const result = { paymentId: payment.id, status: 'SUCCEEDED' as const, amountMinor: 1000, currency: 'CNY' };
  return (await applyPaymentResult(container, { ...result, channelTradeNo: 'sbx_n' }, 'SANDBOX')).payment;
}

/** The event the gateway wrote for a payment's success, once its delivery reached `status`. */
async function eventReaching(path: string, status: string) {
  const container = getContainer();
  return eventually(
    async () => {
      const hit = endpoint.received.find((r) => r.path === path);
      if (!hit) return undefined;
      const { event, attempts } = await getEvent(container, merchant, hit.eventId);
      return event.deliveryStatus === status ? { event, attempts } : undefined;
    },
    { what: `delivery status ${status} for ${path}`, timeoutMs: 60_000 },
  );
}

describe('merchant notifications', () => {
  it('delivers the first attempt straight from the queue, signed, without starting a retry execution', async () => {
    const path = `/ok/${uniqueId('p')}`;
    await paidRecharge(path);
    const { event, attempts } = await eventReaching(path, 'DELIVERED');
    expect(event.type).toBe('payment.succeeded');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ trigger: 'first', httpStatus: 204 });
    expect(endpoint.received.filter((r) => r.path === path).every((r) => r.signatureValid)).toBe(true);
    expect(workflows.sfn?.executions(STATE_MACHINES.notifyRetry.name).some((e) => e.name === event.id)).toBe(false);
  });

  it('retries on the schedule until the merchant acknowledges, in one execution named after the event', async () => {
    const path = `/fail-2/${uniqueId('p')}`;
    await paidRecharge(path);
    const { event, attempts } = await eventReaching(path, 'DELIVERED');
    expect(attempts.map((a) => [a.trigger, a.httpStatus])).toEqual([
      ['first', 503],
      ['retry', 503],
      ['retry', 204],
    ]);
    await workflows.sfn?.idle();
    const executions = workflows.sfn?.executions(STATE_MACHINES.notifyRetry.name).filter((e) => e.name === event.id);
    expect(executions?.map((e) => e.status)).toEqual(['SUCCEEDED']);
    expect(endpoint.received.filter((r) => r.path === path).every((r) => r.signatureValid)).toBe(true);
  });

  it('marks an event FAILED after the last retry, parks it in the dead-letter queue, and can replay it', async () => {
    const path = `/down/${uniqueId('p')}`;
    await paidRecharge(path);
    const { event, attempts } = await eventReaching(path, 'FAILED');
    expect(attempts).toHaveLength(1 + RETRIES);
    expect(attempts.every((a) => a.httpStatus === 503)).toBe(true);
    const dead = await eventually(async () => {
      const { Messages = [] } = await workflows.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: workflows.queueUrls.notifyDlqUrl, MaxNumberOfMessages: 10 }),
      );
      return Messages.find((m) => m.Body?.includes(event.id));
    });
    expect(JSON.parse(String(dead.Body))).toMatchObject({ eventId: event.id, reason: 'RETRIES_EXHAUSTED' });

    const replayed = await replayEvent(getContainer(), merchant, event.id);
    expect(replayed.deliveryStatus).toBe('PENDING');
    await eventually(async () => {
      const { attempts: after } = await getEvent(getContainer(), merchant, event.id);
      return after.some((a) => a.trigger === 'replay');
    });
  });

  it('still delivers when the relay dies after the commit and before the queue send', async () => {
    const path = `/ok/${uniqueId('crash')}`;
    crashNextRelayBatch = true;
    await paidRecharge(path);
    const { attempts } = await eventReaching(path, 'DELIVERED');
    expect(crashNextRelayBatch).toBe(false); // the crash did happen: the stream redelivered the batch
    expect(attempts).toHaveLength(1);
  });
});

describe('order expiry', () => {
  /** A payment created as if `minutesAgo` ago, so it expired one minute after that. */
  async function staleOrder(owner: Merchant, minutesAgo: number): Promise<Payment> {
    const container = getContainer();
    const past = new Date(Date.now() - minutesAgo * 60_000);
    const body = parseInput(schema, {
      order_no: uniqueId('X'),
      amount: '5.00',
      subject: 'expiring',
      channel: 'SANDBOX',
      account_id: uniqueId('acct'),
      expire_in_seconds: 60,
    });
    return (await createPayment({ ...container, clock: () => past }, owner, body)).payment;
  }

  const statusOf = (payment: Payment, status: string) =>
    eventually(
      async () => {
        const current = await getContainer().payments.get(payment.id);
        return current?.status === status ? current : undefined;
      },
      { what: `${payment.id} ${status}` },
    );

  it('closes the unpaid orders of its minute and settles one that was paid at the channel', async () => {
    const container = getContainer();
    // Another merchant, whose inserts the relay does not see: only the timer started here can act on them.
    const { merchant: other } = await newMerchant(container);
    const paidAtChannel = await staleOrder(other, 5);
    const unpaid = await staleOrder(other, 5);
    await container.sandboxStore.decidePayment({
      paymentId: paidAtChannel.id,
      status: 'SUCCESS', // the payer paid before expiry, but the callback never arrived
      amountMinor: paidAtChannel.amountMinor,
      currency: 'CNY',
      channelTradeNo: 'sbx_lost',
      decidedAt: new Date(Date.parse(paidAtChannel.expiresAt) - 10_000).toISOString(),
    });
    const bucket = expiryBucket(unpaid.expiresAt);
    const buckets = new Set([bucket, expiryBucket(paidAtChannel.expiresAt)]);
    for (const each of buckets) expect(await container.workflows.armExpiry(each)).toBe('armed');

    expect((await statusOf(unpaid, 'CLOSED')).status).toBe('CLOSED');
    const settled = await statusOf(paidAtChannel, 'SUCCEEDED');
    expect(settled.late).toBe(false);
    const wallet = await container.wallets.get(other.id, paidAtChannel.accountId ?? '', 'CNY');
    expect(wallet.availableMinor).toBe(500);
    // Closed at the channel too: the order can no longer be paid there.
    expect((await container.sandboxStore.getPayment(unpaid.id))?.status).toBe('CLOSED');
    await workflows.sfn?.idle();
    const timers = workflows.sfn?.executions(STATE_MACHINES.orderExpiry.name) ?? [];
    const ran = timers.filter((e) => [...buckets].some((b) => e.name === `expiry-${b.replaceAll(':', '-')}`));
    expect(ran.map((e) => e.status)).toEqual([...buckets].map(() => 'SUCCEEDED'));
  });

  it('arms one timer per minute and leaves an order that is not due yet', async () => {
    const container = getContainer();
    const body = () =>
      parseInput(schema, { order_no: uniqueId('F'), amount: '1.00', subject: 'later', channel: 'SANDBOX' });
    const first = (await createPayment(container, merchant, body())).payment;
    const second = (await createPayment(container, merchant, body())).payment;
    // Each arms the minute of its first status sync (5 minutes after creation, well before its 30-minute expiry).
    expect(first.syncAt).toBeDefined();
    const names = [first, second].map((p) => `expiry-${expiryBucket(p.syncAt ?? '').replaceAll(':', '-')}`);
    await eventually(() => names.every((name) => workflows.sfn?.executions().some((e) => e.name === name)));
    await workflows.sfn?.idle(); // the local state machine scales the 5-minute wait down; the orders are not due yet
    expect((await container.payments.get(first.id))?.status).toBe('PENDING');
    expect((await container.payments.get(second.id))?.status).toBe('PENDING');
    const timers = workflows.sfn?.executions(STATE_MACHINES.orderExpiry.name) ?? [];
    expect(new Set(timers.map((e) => e.name)).size).toBe(timers.length);
  });

  it('expires an order directly when the stream delivers it after its minute has passed', async () => {
    const stale = await staleOrder(merchant, 9); // a minute no other test of this file touches
    expect((await statusOf(stale, 'CLOSED')).status).toBe('CLOSED');
    const timers = workflows.sfn?.executions(STATE_MACHINES.orderExpiry.name) ?? [];
    expect(timers.some((e) => e.name === `expiry-${expiryBucket(stale.expiresAt).replaceAll(':', '-')}`)).toBe(false);
  });
});
