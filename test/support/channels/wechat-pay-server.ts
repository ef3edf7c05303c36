import { createHash, createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  MAX_SKEW_SECONDS,
  parseAuthorization,
  requestMessage,
  rsaVerify,
} from '#adapters/channels/wechat-pay/signing.ts';
import { businessDayWindow, SHANGHAI } from '#domain/business-day.ts';
import { wechatPayBill } from '../bills.ts';
import {
  type PlatformSigner,
  refundNotification,
  type SignedNotification,
  transactionNotification,
  wechatpayHeaders,
} from './wechat-pay-notifications.ts';
import { type LocalAnswer, type LocalOrder, LocalOrderBook, type LocalRefund } from './wechat-pay-orders.ts';

export type { SignedNotification } from './wechat-pay-notifications.ts';

/** The endpoints of the local server, each of which can be told to misbehave. */
export type WechatPayEndpoint =
  | 'native'
  | 'jsapi'
  | 'h5'
  | 'query'
  | 'close'
  | 'refund'
  | 'refundQuery'
  | 'tradeBill'
  | 'billDownload';

/**
 * An injected failure: HTTP 500, no answer at all, a (signed) business error, an answer with a bad signature, or
 * (`billDownload` only) a bill file other than the one whose hash was announced.
 */
export type InjectedFailure =
  | 'http500'
  | 'hang'
  | 'badSignature'
  | 'wrongHash'
  | { businessError: { status: number; code: string; message: string } };

/** How to start the local server: the merchant account it serves and the platform key it signs with. */
export interface WechatPayServerOptions {
  mchId: string;
  appId: string;
  /** Verifies the merchant's `Authorization` signatures. */
  merchantPublicKeyPem: string;
  /** `serial` goes into `Wechatpay-Serial` (a certificate serial or a `PUB_KEY_ID_…`). */
  platform: { serial: string; privateKeyPem: string };
  apiV3Key: string;
  behaviours?: Partial<Record<WechatPayEndpoint, InjectedFailure>>;
  port?: number;
}

/** The running local server. `behaviours` may be changed between requests. */
export interface WechatPayServer {
  url: string;
  orders: Map<string, LocalOrder>;
  refunds: Map<string, LocalRefund>;
  behaviours: Partial<Record<WechatPayEndpoint, InjectedFailure>>;
  stop(): Promise<void>;
  /** The payer pays an order (now, or at `at`). */
  pay(outTradeNo: string, at?: Date): LocalOrder;
  /**
   * WeChat Pay has built the trade bill of the Asia/Shanghai day `date` (from 09:00 the next day): from now on
   * `GET /v3/bill/tradebill` answers its `download_url` and SHA1 instead of `400 NO_STATEMENT_EXIST`. The bill is made
   * from the server's own orders and refunds.
   */
  publishBill(date: string): void;
  /** WeChat Pay finishes a refund. */
  settleRefund(outRefundNo: string, status: 'SUCCESS' | 'CLOSED' | 'ABNORMAL'): LocalRefund;
  /** A signed `TRANSACTION.SUCCESS` callback of a paid order. */
  transactionNotification(outTradeNo: string): SignedNotification;
  /** A signed `REFUND.SUCCESS|CLOSED|ABNORMAL` callback of a finished refund. */
  refundNotification(outRefundNo: string): SignedNotification;
  sendTransactionNotification(notifyUrl: string, outTradeNo: string): Promise<{ status: number; body: string }>;
  sendRefundNotification(notifyUrl: string, outRefundNo: string): Promise<{ status: number; body: string }>;
}

type Route = {
  endpoint: WechatPayEndpoint;
  answer: (book: LocalOrderBook, body: Record<string, unknown>) => LocalAnswer;
};

function route(method: string, url: URL, bills: LocalBills): Route | undefined {
  const path = url.pathname;
  if (method === 'GET' && path === '/v3/bill/tradebill')
    return { endpoint: 'tradeBill', answer: () => bills.apply(url) };
  if (method === 'GET' && path === '/v3/billdownload/file') {
    return { endpoint: 'billDownload', answer: () => bills.file(url) };
  }
  const prepay = /^\/v3\/pay\/transactions\/(native|jsapi|h5)$/.exec(path);
  const order = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)(\/close)?$/.exec(path);
  const refund = /^\/v3\/refund\/domestic\/refunds(?:\/([^/]+))?$/.exec(path);
  const kind = prepay?.[1] as 'native' | 'jsapi' | 'h5' | undefined;
  if (method === 'POST' && kind) return { endpoint: kind, answer: (book, body) => book.prepay(kind, body) };
  const outTradeNo = decodeURIComponent(order?.[1] ?? '');
  if (method === 'GET' && order && !order[2]) {
    return { endpoint: 'query', answer: (book) => book.query(outTradeNo, url.searchParams.get('mchid')) };
  }
  if (method === 'POST' && order?.[2]) {
    return { endpoint: 'close', answer: (book, body) => book.close(outTradeNo, body) };
  }
  const outRefundNo = decodeURIComponent(refund?.[1] ?? '');
  if (method === 'POST' && refund && !outRefundNo) {
    return { endpoint: 'refund', answer: (book, body) => book.refund(body) };
  }
  if (method === 'GET' && outRefundNo) {
    return { endpoint: 'refundQuery', answer: (book) => book.queryRefund(outRefundNo) };
  }
  return undefined;
}

/** The trade bills of the local server: published days, and the files handed out by download token. */
class LocalBills {
  readonly published = new Set<string>();
  private readonly files = new Map<string, Buffer>();
  origin = '';

  constructor(private readonly book: LocalOrderBook) {}

  /** `GET /v3/bill/tradebill?bill_date=&bill_type=ALL`: the file's SHA1 and a one-time `download_url`. */
  apply(url: URL): LocalAnswer {
    const date = url.searchParams.get('bill_date') ?? '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || (url.searchParams.get('bill_type') ?? 'ALL') !== 'ALL') {
      return { status: 400, body: { code: 'PARAM_ERROR', message: '参数错误' } };
    }
    if (!this.published.has(date)) return { status: 400, body: { code: 'NO_STATEMENT_EXIST', message: '账单不存在' } };
    const { from, to } = businessDayWindow(SHANGHAI, date);
    const bytes = Buffer.from(wechatPayBill(this.book.billRecords(from, to)));
    const token = randomUUID().replaceAll('-', '');
    this.files.set(token, bytes);
    const hash = createHash('sha1').update(bytes).digest('hex');
    const downloadUrl = `${this.origin}/v3/billdownload/file?token=${token}`;
    return { status: 200, body: { hash_type: 'SHA1', hash_value: hash, download_url: downloadUrl } };
  }

  /** `GET /v3/billdownload/file?token=`: the file, once (WeChat Pay's link lasts 30 s). */
  file(url: URL): LocalAnswer & { file?: Buffer } {
    const token = url.searchParams.get('token') ?? '';
    const file = this.files.get(token);
    this.files.delete(token);
    return file ? { status: 200, file } : { status: 400, body: { code: 'PARAM_ERROR', message: 'token 已过期' } };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts a local server that speaks WeChat Pay API v3 for one merchant: it verifies every request's `Authorization`
 * with the merchant public key (`401 SIGN_ERROR` otherwise), keeps orders and refunds in memory, signs every answer
 * with the platform key (`Wechatpay-*` headers), sends AES-256-GCM encrypted callbacks, and misbehaves on demand. A
 * day's trade bill, once published ({@link WechatPayServer.publishBill}), is made from its own orders and refunds.
 */
export async function startWechatPayServer(options: WechatPayServerOptions): Promise<WechatPayServer> {
  const book = new LocalOrderBook({ mchId: options.mchId, appId: options.appId });
  const bills = new LocalBills(book);
  const merchantKey = createPublicKey(options.merchantPublicKeyPem);
  const platformKey = createPrivateKey(options.platform.privateKeyPem);
  const behaviours = { ...options.behaviours };
  const signer: PlatformSigner = { serial: options.platform.serial, key: platformKey, apiV3Key: options.apiV3Key };

  const reply = (res: ServerResponse, answer: LocalAnswer, tamper = false): void => {
    const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
    const headers = wechatpayHeaders(signer, tamper ? `${body} ` : body);
    res.writeHead(answer.status, { ...headers, 'request-id': randomUUID(), 'content-type': 'application/json' });
    res.end(body);
  };

  const authenticated = (req: IncomingMessage, body: string): boolean => {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth || auth.mchid !== options.mchId) return false;
    if (Math.abs(Date.now() / 1000 - Number(auth.timestamp)) > MAX_SKEW_SECONDS) return false;
    const message = requestMessage({
      method: req.method ?? '',
      pathAndQuery: req.url ?? '',
      timestamp: auth.timestamp,
      nonce: auth.nonce_str,
      body,
    });
    return rsaVerify(merchantKey, message, auth.signature);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!authenticated(req, body)) {
      return reply(res, { status: 401, body: { code: 'SIGN_ERROR', message: '签名错误' } });
    }
    const matched = route(req.method ?? '', url, bills);
    if (!matched) return reply(res, { status: 404, body: { code: 'NOT_FOUND', message: 'no such API' } });
    const behaviour = behaviours[matched.endpoint];
    if (behaviour === 'hang') return; // never answers; the client's deadline must fire
    if (behaviour === 'http500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ code: 'SYSTEM_ERROR', message: '系统错误' }));
    }
    if (typeof behaviour === 'object') {
      return reply(res, { status: behaviour.businessError.status, body: behaviour.businessError });
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = body ? JSON.parse(body) : {};
    } catch {
      return reply(res, { status: 400, body: { code: 'PARAM_ERROR', message: 'body is not JSON' } });
    }
    const answer: LocalAnswer & { file?: Buffer } = matched.answer(book, parsed);
    if (answer.file) {
      // The file itself is not signed: its integrity is the SHA1 announced in the signed tradebill answer.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'request-id': randomUUID() });
      return void res.end(
        behaviour === 'wrongHash' ? Buffer.concat([answer.file, Buffer.from('`0\r\n')]) : answer.file,
      );
    }
    reply(res, answer, behaviour === 'badSignature');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(options.port ?? 0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('local WeChat Pay server has no address');
  bills.origin = `http://127.0.0.1:${address.port}`;

  const transaction = (outTradeNo: string) => transactionNotification(signer, book.orders.get(outTradeNo));
  const refund = (outRefundNo: string) => refundNotification(signer, options.mchId, book.refunds.get(outRefundNo));

  const post = async (url: string, signed: SignedNotification) => {
    const response = await fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
    return { status: response.status, body: await response.text() };
  };

  return {
    url: `http://127.0.0.1:${address.port}`,
    orders: book.orders,
    refunds: book.refunds,
    behaviours,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
    pay: (outTradeNo, at) => book.pay(outTradeNo, at),
    publishBill: (date) => void bills.published.add(date),
    settleRefund: (outRefundNo, status) => book.settleRefund(outRefundNo, status),
    transactionNotification: transaction,
    refundNotification: refund,
    sendTransactionNotification: (notifyUrl, outTradeNo) => post(notifyUrl, transaction(outTradeNo)),
    sendRefundNotification: (notifyUrl, outRefundNo) => post(notifyUrl, refund(outRefundNo)),
  };
}
