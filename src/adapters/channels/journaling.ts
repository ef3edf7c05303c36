import { AsyncLocalStorage } from 'node:async_hooks';
import type { ChannelJournal, PaymentChannel } from '#app/ports.ts';
import { type JournalEntry, type JournalOperation, redactMessage } from '#domain/channel-journal.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { AppError } from '#shared/errors.ts';
import { newId } from '#shared/ids.ts';

/** One HTTP exchange an adapter made during a journaled operation, already redacted. */
interface Exchange {
  request: string;
  response?: string;
  httpStatus?: number;
}

/** `METHOD /path?query` and the body, both redacted (Alipay may sign in the query string). */
function describeRequest(input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): string {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const query = url.search ? `?${redactMessage(url.search.slice(1))}` : '';
  const body = typeof init?.body === 'string' ? `\n${redactMessage(init.body)}` : '';
  return `${init?.method ?? 'GET'} ${url.pathname}${query}${body}`;
}

const exchanges = new AsyncLocalStorage<Exchange[]>();

/**
 * A `fetch` for the channel clients that notes each request body, status and answer body of the journaled operation
 * it runs in (nothing outside one). Reading the answer uses a clone, so the client reads it exactly as before.
 */
export function journalingFetch(inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const noted = exchanges.getStore();
    if (!noted) return inner(input, init);
    const exchange: Exchange = { request: describeRequest(input, init) };
    noted.push(exchange);
    const response = await inner(input, init);
    exchange.httpStatus = response.status;
    const text = await response
      .clone()
      .text()
      .catch(() => '');
    exchange.response = redactMessage(text);
    return response;
  };
}

/**
 * Wraps an external channel so each operation leaves one journal entry: which payment/refund, what was sent and
 * answered (redacted), status, latency, error, the channel's ids. The wrapped channel behaves exactly as before; the
 * journal's own failures never reach it.
 */
export function journaled(channel: PaymentChannel, journal: ChannelJournal, clock: () => Date): PaymentChannel {
  const run = async <T>(
    operation: JournalOperation,
    ids: { paymentId: string; refundId?: string },
    call: () => Promise<T>,
    channelIds: (result: T) => Pick<JournalEntry, 'channelTradeNo' | 'channelRefundNo'> = () => ({}),
  ): Promise<T> => {
    const noted: Exchange[] = [];
    const at = clock().toISOString();
    const started = performance.now();
    const finish = (extra: Partial<JournalEntry>) => {
      const last = noted.at(-1);
      journal.record({
        id: newId('jnl'),
        channel: channel.code,
        operation,
        ...ids,
        at,
        latencyMs: Math.round(performance.now() - started),
        outcome: 'OK',
        ...(last?.httpStatus !== undefined ? { httpStatus: last.httpStatus } : {}),
        ...(noted.length ? { request: noted.map((e) => e.request).join('\n') } : {}),
        ...(noted.length ? { response: noted.map((e) => e.response ?? '').join('\n') } : {}),
        ...extra,
      });
    };
    try {
      const result = await exchanges.run(noted, call);
      finish(channelIds(result));
      return result;
    } catch (error) {
      finish({ outcome: 'ERROR', ...errorFields(error) });
      throw error;
    }
  };
  const wrapped: PaymentChannel = Object.create(channel);
  return Object.assign(wrapped, {
    createPayment: (payment: Payment) => run('create', { paymentId: payment.id }, () => channel.createPayment(payment)),
    queryPayment: (payment: Payment) =>
      run(
        'query',
        { paymentId: payment.id },
        () => channel.queryPayment(payment),
        (result) => (result?.channelTradeNo ? { channelTradeNo: result.channelTradeNo } : {}),
      ),
    closePayment: (payment: Payment) => run('close', { paymentId: payment.id }, () => channel.closePayment(payment)),
    refund: (refund: Refund, payment: Payment) =>
      run(
        'refund',
        { paymentId: payment.id, refundId: refund.id },
        () => channel.refund(refund, payment),
        (result) => (result.channelRefundNo ? { channelRefundNo: result.channelRefundNo } : {}),
      ),
    queryRefund: (refund: Refund) =>
      run(
        'query_refund',
        { paymentId: refund.paymentId, refundId: refund.id },
        () => channel.queryRefund(refund),
        (result) => (result?.channelRefundNo ? { channelRefundNo: result.channelRefundNo } : {}),
      ),
  });
}

/** The error code and message an entry shows: the contract code of an {@link AppError}, else the error's name. */
export function errorFields(error: unknown): Pick<JournalEntry, 'errorCode' | 'errorMessage'> {
  if (error instanceof AppError) return { errorCode: error.code, errorMessage: error.message.slice(0, 512) };
  if (error instanceof Error) return { errorCode: error.name, errorMessage: error.message.slice(0, 512) };
  return { errorCode: 'UNKNOWN', errorMessage: String(error).slice(0, 512) };
}
