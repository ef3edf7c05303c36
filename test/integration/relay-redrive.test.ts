import { createServer, type Server } from 'node:http';
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsRelayFailureQueue } from '#adapters/aws/relay-failure-queue.ts';
import { DynamoStreamBatches } from '#adapters/aws/stream-batches.ts';
import { getContainer } from '#adapters/container.ts';
import { STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { getEvent } from '#app/notifications.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { redriveRelayFailures } from '#app/relay-redrive.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import { REDRIVE_MAX_ATTEMPTS } from '#domain/relay-redrive.ts';
import { handler as notifyHandler } from '../../functions/notify.ts';
import { handler as notifyAttemptHandler } from '../../functions/notify-attempt.ts';
import { handler as notifyFailedHandler } from '../../functions/notify-failed.ts';
import { handler as relayHandler } from '../../functions/outbox-relay.ts';
import { handler as relayRedriveHandler } from '../../functions/relay-redrive.ts';
import { invokeLocally } from '../../local/lambda-context.ts';
import { newMerchant, uniqueId } from '../support/fixtures.ts';
import { eventually, type LocalWorkflows, startLocalWorkflows } from '../support/local-workflows.ts';

/** The merchant's endpoint: acknowledges everything and remembers which event ids reached it. */
const received: string[] = [];
let server: Server;
let notifyBase = '';
let workflows: LocalWorkflows;
let merchant: Merchant;
/** While set, the outbox relay fails every batch (the notify queue "unreachable" from the relay's point of view). */
let relayBroken = false;

/** Only this file's outbox events: other files write to the same table at the same time. */
function isOurEvent(record: DynamoDBRecord): boolean {
  const image = record.dynamodb?.NewImage;
  return image?.entity?.S === 'EVENT' && image.merchantId?.S === merchant?.id;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['x-event-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  notifyBase = `http://127.0.0.1:${address.port}`;
  workflows = await startLocalWorkflows({
    notifyHandler,
    streamHandler: async (event: DynamoDBStreamEvent, context) => {
      if (relayBroken) throw new Error('injected: the relay cannot reach the notify queue');
      return relayHandler(event, context);
    },
    streamFilter: isOurEvent,
    // Like the deployed mapping (10 there): a batch still failing after 2 retries is recorded and skipped.
    streamRetryAttempts: 2,
    stateMachines: [
      {
        ...STATE_MACHINES.notifyRetry,
        tasks: { NotifyAttemptFunctionArn: notifyAttemptHandler, NotifyFailedFunctionArn: notifyFailedHandler },
      },
    ],
  });
  ({ merchant } = await newMerchant(getContainer()));
});

afterAll(async () => {
  await workflows?.stop();
  await new Promise((done) => server?.close(done));
});

/** A sandbox recharge that succeeded: its `payment.succeeded` event is written to the outbox (the stream). */
async function paidRecharge(): Promise<string> {
  const container = getContainer();
  const body = parseInput(createPaymentSchema({ allowLoopbackHttp: true }), {
    order_no: uniqueId('RD'),
    amount: '10.00',
    subject: 'redrive',
    channel: 'SANDBOX',
    account_id: uniqueId('acct'),
    notify_url: `${notifyBase}/hook`,
  });
  const { payment } = await createPayment(container, merchant, body);
  const result = { paymentId: payment.id, status: 'SUCCEEDED' as const, amountMinor: 1000, currency: 'CNY' };
  await applyPaymentResult(container, { ...result, channelTradeNo: `sbx_${payment.id}` }, 'SANDBOX');
  return payment.id;
}

/** The events of this merchant for one payment. */
async function eventsOf(paymentId: string) {
  const { items } = await getContainer().events.list(merchant, { limit: 50 }, {});
  return items.filter((event) => event.paymentId === paymentId);
}

async function messagesIn(queueUrl: string): Promise<number> {
  const out = await workflows.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Breaks the relay, writes a paid recharge, and waits until its batch is recorded in the failure queue. */
async function skippedRecharge(): Promise<string> {
  relayBroken = true;
  try {
    const paymentId = await paidRecharge();
    await eventually(async () => (await messagesIn(workflows.queueUrls.relayFailuresUrl)) > 0, {
      what: 'the skipped batch in the relay failure queue',
      timeoutMs: 60_000,
    });
    return paymentId;
  } finally {
    relayBroken = false;
  }
}

describe('automatic re-drive of the outbox relay failures (local SQS + DynamoDB Local stream)', () => {
  it('re-drives a skipped batch: its events are delivered without an operator, and a second re-drive changes nothing', async () => {
    const paymentId = await skippedRecharge();
    const [event] = await eventsOf(paymentId);
    expect(event?.deliveryStatus).toBe('PENDING'); // the relay gave up on it: nothing was queued
    expect(received).not.toContain(event?.id);

    // Keep a copy of the failure record (released at once), to re-drive the same batch a second time below.
    const peek = await workflows.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: workflows.queueUrls.relayFailuresUrl, MaxNumberOfMessages: 1 }),
    );
    const record = peek.Messages?.[0];
    expect(JSON.parse(String(record?.Body)).DDBStreamBatchInfo).toMatchObject({ streamArn: expect.any(String) });
    await workflows.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: workflows.queueUrls.relayFailuresUrl,
        ReceiptHandle: record?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );

    // The scheduled function, as EventBridge invokes it.
    const run = await invokeLocally('RelayRedrive', relayRedriveHandler, { 'detail-type': 'Scheduled Event' });
    expect(run).toMatchObject({ redriven: 1, postponed: 0 });
    expect(run.items).toBeGreaterThanOrEqual(1);
    const delivered = await eventually(
      async () => {
        const { event: now } = await getEvent(getContainer(), merchant, String(event?.id));
        return now.deliveryStatus === 'DELIVERED' ? now : undefined;
      },
      { what: 'the re-driven event delivered', timeoutMs: 60_000 },
    );
    expect(received.filter((id) => id === delivered.id)).toHaveLength(1);
    expect(await messagesIn(workflows.queueUrls.relayFailuresUrl)).toBe(0);

    // The same batch once more (a duplicate failure record): relayed again, delivered nothing twice.
    await workflows.sqs.send(
      new SendMessageCommand({ QueueUrl: workflows.queueUrls.relayFailuresUrl, MessageBody: String(record?.Body) }),
    );
    const again = await invokeLocally('RelayRedrive', relayRedriveHandler, { 'detail-type': 'Scheduled Event' });
    expect(again).toMatchObject({ redriven: 1, postponed: 0 });
    await eventually(async () => (await messagesIn(workflows.queueUrls.notifyQueueUrl)) === 0, {
      what: 'the notify queue drained',
      timeoutMs: 60_000,
    });
    const { event: after, attempts } = await getEvent(getContainer(), merchant, delivered.id);
    expect(after.deliveryStatus).toBe('DELIVERED');
    expect(attempts).toHaveLength(1);
    expect(received.filter((id) => id === delivered.id)).toHaveLength(1);
  }, 300_000);

  it('retries a batch that stays undeliverable on its backoff, then parks it in the final queue (alarmed)', async () => {
    const paymentId = await skippedRecharge();
    const [event] = await eventsOf(paymentId);
    const container = getContainer();
    // The notify queue stays unreachable for the re-drive too; a 1 s first delay instead of 2 minutes (the test's only shortcut).
    const deps = {
      ...container,
      queues: {
        enqueue: async () => {
          throw new Error('injected: notify queue unreachable');
        },
      },
      relayFailures: new SqsRelayFailureQueue(
        { failures: workflows.queueUrls.relayFailuresUrl, undeliverable: workflows.queueUrls.relayUndeliverableUrl },
        workflows.sqs,
      ),
      streamBatches: new DynamoStreamBatches(),
    };
    const runs: { postponed: number; gaveUp: number }[] = [];
    // Each run re-drives what is due; a failed batch comes back after its delay (1 s here), until the last attempt.
    await eventually(
      async () => {
        const result = await redriveRelayFailures(deps, { firstDelaySeconds: 1 });
        expect(result.redriven).toBe(0);
        if (result.postponed || result.gaveUp) runs.push(result);
        return result.gaveUp > 0;
      },
      { what: 'the batch given up', timeoutMs: 180_000, intervalMs: 300 },
    );
    // REDRIVE_MAX_ATTEMPTS attempts in all: postponed each time but the last, which parks it.
    expect(runs.map((r) => [r.postponed, r.gaveUp])).toEqual([
      ...Array.from({ length: REDRIVE_MAX_ATTEMPTS - 1 }, () => [1, 0]),
      [0, 1],
    ]);
    expect(await messagesIn(workflows.queueUrls.relayFailuresUrl)).toBe(0);
    const parked = await workflows.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: workflows.queueUrls.relayUndeliverableUrl, MaxNumberOfMessages: 10 }),
    );
    expect(parked.Messages).toHaveLength(1);
    expect(JSON.parse(String(parked.Messages?.[0]?.Body)).DDBStreamBatchInfo).toMatchObject({
      startSequenceNumber: expect.stringMatching(/^\d+$/),
    });
    const { event: stuck } = await getEvent(container, merchant, String(event?.id));
    expect(stuck.deliveryStatus).toBe('PENDING'); // for an operator: POST /v1/events/{id}/replay
    expect(received).not.toContain(event?.id);
  }, 300_000);
});
