import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { zipSync } from 'fflate';
import { alipayJson, responseKey } from '#adapters/channels/alipay/response-text.ts';
import {
  loadPrivateKey,
  loadPublicKey,
  rsa2Sign,
  signNotification,
  verifyRequest,
} from '#adapters/channels/alipay/signing.ts';
import { toShanghaiTime } from '#adapters/channels/alipay/transformers.ts';
import { businessDayWindow, SHANGHAI } from '#domain/business-day.ts';
import { formatAmount } from '#domain/money.ts';
import { alipayBill, encodeGbk } from '../bills.ts';
import { type AlipayAnswer, AlipayTradeBook, LOCAL_BUYER, type LocalAlipayTrade } from './alipay-trades.ts';

/** The merchant's Alipay account id, as bill file names carry it. */
const ACCOUNT = '20880000000000000156';

/** The open-platform methods the local server speaks. */
export type AlipayApiMethod =
  | 'alipay.trade.precreate'
  | 'alipay.trade.page.pay'
  | 'alipay.trade.wap.pay'
  | 'alipay.trade.query'
  | 'alipay.trade.close'
  | 'alipay.trade.refund'
  | 'alipay.trade.fastpay.refund.query'
  | 'alipay.data.dataservice.bill.downloadurl.query';

/** A failure to inject into one method: an HTTP 500, no answer at all, a business error, or a forged `sign`. */
export type AlipayBehaviour =
  | { kind: 'http-500' }
  | { kind: 'hang' }
  | { kind: 'business-error'; code?: string; subCode: string; subMsg?: string }
  | { kind: 'bad-signature' };

/** Options of {@link startAlipayServer}. Keys are PEM; the server plays Alipay, so it holds Alipay's private key. */
export interface AlipayServerOptions {
  appId: string;
  appPublicKeyPem: string;
  alipayPrivateKeyPem: string;
  behaviours?: Partial<Record<AlipayApiMethod, AlipayBehaviour>>;
  port?: number;
}

/** A running local Alipay. */
export interface LocalAlipayServer {
  /** The gateway URL (`…/gateway.do`) to configure as `AlipayConfig.gatewayUrl`. */
  url: string;
  trades: ReadonlyMap<string, LocalAlipayTrade>;
  /** Injected failures by method; change them between calls. */
  behaviours: Partial<Record<AlipayApiMethod, AlipayBehaviour>>;
  /** Every verified request: its method and decoded parameters (including `biz_content`). */
  requests: { method: string; params: Record<string, string> }[];
  /** The buyer pays the trade (now, or at `at`). */
  pay(outTradeNo: string, at?: Date): LocalAlipayTrade;
  /**
   * Alipay has built the trade bill of the Asia/Shanghai day `date` (it does so the next morning): from now on
   * `alipay.data.dataservice.bill.downloadurl.query` answers a download link instead of `isp.bill_not_exist`. The
   * `.csv.zip` is made from the server's own trades when it is downloaded.
   */
  publishBill(date: string): void;
  /** The decoded, signed parameters of the trade's async notification (a refund one with `refundRequestNo`). */
  notificationParams(outTradeNo: string, options?: { refundRequestNo?: string }): Record<string, string>;
  /** POSTs the trade's signed async notification, form-encoded, as Alipay does; returns the answer. */
  sendNotification(
    notifyUrl: string,
    outTradeNo: string,
    options?: { refundRequestNo?: string },
  ): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

/**
 * Starts a local server that speaks Alipay's open-platform protocol on 127.0.0.1: it verifies each request's RSA2
 * signature with the app's public key (`isv.invalid-signature` otherwise), keeps trades in memory, and signs its
 * responses with Alipay's private key over the exact `<method>_response` text, escaping `/` as Alipay does. A day's
 * trade bill, once published ({@link LocalAlipayServer.publishBill}), is a `.csv.zip` made from its own trades.
 */
export async function startAlipayServer(options: AlipayServerOptions): Promise<LocalAlipayServer> {
  const appKey = loadPublicKey(options.appPublicKeyPem);
  const alipayKey = loadPrivateKey(options.alipayPrivateKeyPem);
  const book = new AlipayTradeBook();
  const behaviours = { ...options.behaviours };
  const requests: LocalAlipayServer['requests'] = [];
  const published = new Set<string>();
  /** Download tokens handed out, by the day they are for. */
  const downloads = new Map<string, string>();
  let origin = '';

  const billAnswer = (biz: Record<string, unknown>): AlipayAnswer => {
    const date = String(biz.bill_date ?? '');
    if (biz.bill_type !== 'trade' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      return { code: '40004', msg: 'Business Failed', sub_code: 'isv.invalid_arguments', sub_msg: '参数不合法' };
    }
    if (!published.has(date)) {
      return { code: '40004', msg: 'Business Failed', sub_code: 'isp.bill_not_exist', sub_msg: '账单不存在' };
    }
    const token = randomUUID().replaceAll('-', '');
    downloads.set(token, date);
    const day = date.replaceAll('-', '');
    const name = `${ACCOUNT}_${day}.csv.zip`;
    // As Alipay hands it out: plain http, on the bill host (here the server itself).
    const link = `${origin}/downloadBillFile.resource?bizType=trade&userId=${ACCOUNT}&fileType=csv.zip&bizDates=${day}&downloadFileName=${name}&token=${token}`;
    return { code: '10000', msg: 'Success', bill_download_url: link };
  };

  /** The day's `.csv.zip` as Alipay packs it: the GBK trade detail (业务明细) and its summary (汇总). */
  const billArchive = (date: string): Uint8Array => {
    const { from, to } = businessDayWindow(SHANGHAI, date);
    const records = book.billRecords(from, to);
    const day = date.replaceAll('-', '');
    return zipSync({
      [`${ACCOUNT}_${day}_业务明细.csv`]: alipayBill(records, date),
      [`${ACCOUNT}_${day}_业务明细(汇总).csv`]: encodeGbk(`#支付宝业务汇总查询\r\n#交易合计：${records.length}笔\r\n`),
    });
  };

  const respond = (res: ServerResponse, method: string, answer: AlipayAnswer, forge = false): void => {
    const key = method ? responseKey(method) : 'error_response';
    const content = alipayJson(answer);
    const sign = rsa2Sign(forge ? `${content} ` : content, alipayKey);
    res.writeHead(200, { 'content-type': 'application/json;charset=utf-8' });
    res.end(`{"${key}":${content},"sign":"${sign}"}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/downloadBillFile.resource') {
      // The link is good for one download (Alipay's lasts 30 s).
      const date = downloads.get(url.searchParams.get('token') ?? '');
      downloads.delete(url.searchParams.get('token') ?? '');
      if (!date) return void res.writeHead(404, { 'content-type': 'text/html' }).end('<html>expired</html>');
      res.writeHead(200, { 'content-type': 'application/zip' });
      return void res.end(billArchive(date));
    }
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    if (req.method === 'POST') Object.assign(params, Object.fromEntries(new URLSearchParams(await readBody(req))));
    const method = params.method ?? '';
    const behaviour = behaviours[method as AlipayApiMethod];
    if (behaviour?.kind === 'hang') return; // never answers; stop() drops the socket
    if (behaviour?.kind === 'http-500') {
      res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>500 Internal Server Error</body></html>');
      return;
    }
    if (params.app_id !== options.appId) {
      return respond(res, method, { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-app-id' });
    }
    if (!verifyRequest(params, appKey)) {
      const subMsg = '验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配';
      const answer = { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-signature', sub_msg: subMsg };
      return respond(res, method, answer);
    }
    let biz: Record<string, unknown>;
    try {
      biz = JSON.parse(params.biz_content ?? '{}') as Record<string, unknown>;
    } catch {
      return respond(res, method, { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-biz-content' });
    }
    requests.push({ method, params });
    if (behaviour?.kind === 'business-error') {
      const { code = '40004', subCode, subMsg = 'injected failure' } = behaviour;
      return respond(res, method, { code, msg: 'Business Failed', sub_code: subCode, sub_msg: subMsg });
    }
    if (method === 'alipay.trade.page.pay' || method === 'alipay.trade.wap.pay') {
      const trade = book.open(biz, params.notify_url);
      const text = 'tradeNo' in trade ? `Alipay local cashier: ${trade.outTradeNo} ${trade.totalAmount} CNY` : 'error';
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
      return;
    }
    const answer = answerFor(book, billAnswer, method, biz, params.notify_url);
    if (!answer) return respond(res, '', { code: '40004', msg: 'Business Failed', sub_code: 'isv.invalid-method' });
    respond(res, method, answer, behaviour?.kind === 'bad-signature');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  const notificationParams = (outTradeNo: string, extra: { refundRequestNo?: string } = {}) => {
    const trade = book.trades.get(outTradeNo);
    if (!trade) throw new Error(`no local Alipay trade ${outTradeNo}`);
    const refund = extra.refundRequestNo ? trade.refunds.get(extra.refundRequestNo) : undefined;
    if (extra.refundRequestNo && !refund) throw new Error(`no refund ${extra.refundRequestNo} on ${outTradeNo}`);
    const params: Record<string, string | undefined> = {
      notify_time: toShanghaiTime(new Date()),
      notify_type: 'trade_status_sync',
      notify_id: randomUUID().replaceAll('-', ''),
      app_id: options.appId,
      charset: 'utf-8',
      version: '1.0',
      sign_type: 'RSA2',
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      buyer_id: LOCAL_BUYER.buyerId,
      trade_status: trade.status,
      total_amount: trade.totalAmount,
      receipt_amount: trade.paidAt ? trade.totalAmount : undefined,
      subject: trade.subject,
      gmt_create: toShanghaiTime(trade.createdAt),
      gmt_payment: trade.paidAt ? toShanghaiTime(trade.paidAt) : undefined,
      fund_bill_list: trade.paidAt ? JSON.stringify([{ amount: trade.totalAmount, fundChannel: 'ALIPAYACCOUNT' }]) : '',
      out_biz_no: extra.refundRequestNo,
      refund_fee: refund ? formatAmount(trade.refundedFen, 'CNY') : undefined,
      gmt_refund: refund ? `${toShanghaiTime(refund.at)}.000` : undefined,
    };
    const form = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined)) as Record<
      string,
      string
    >;
    return { ...form, sign: signNotification(form, alipayKey) };
  };

  return {
    url: `http://127.0.0.1:${port}/gateway.do`,
    trades: book.trades,
    behaviours,
    requests,
    pay: (outTradeNo, at) => book.pay(outTradeNo, at),
    publishBill: (date) => void published.add(date),
    notificationParams,
    async sendNotification(notifyUrl, outTradeNo, extra) {
      const response = await fetch(notifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams(notificationParams(outTradeNo, extra)).toString(),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, body: await response.text() };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerFor(
  book: AlipayTradeBook,
  bill: (biz: Record<string, unknown>) => AlipayAnswer,
  method: string,
  biz: Record<string, unknown>,
  notifyUrl?: string,
) {
  switch (method) {
    case 'alipay.trade.precreate':
      return book.precreate(biz, notifyUrl);
    case 'alipay.trade.query':
      return book.query(biz);
    case 'alipay.trade.close':
      return book.close(biz);
    case 'alipay.trade.refund':
      return book.refund(biz);
    case 'alipay.trade.fastpay.refund.query':
      return book.refundQuery(biz);
    case 'alipay.data.dataservice.bill.downloadurl.query':
      return bill(biz);
    default:
      return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
