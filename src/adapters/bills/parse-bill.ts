import type { BillChannel, BillEvent } from '#domain/bill.ts';
import { parseAlipayBill } from './alipay-bill.ts';
import { parseSandboxBill, SANDBOX_BILL_HEADER } from './sandbox-bill.ts';
import { parseWechatPayBill } from './wechat-pay-bill.ts';

/**
 * Parses a channel's bill as it streams in (an S3 `GetObject` body is such an iterable; unzip/gunzip first). Yields
 * a `header` event once the layout is recognized, then one `line` or `error` per data line in file order, then the
 * bill's own `summary`. A malformed line never throws: it is an `error` event and parsing goes on; only a file that is
 * not this channel's layout at all ends with one fatal `UNRECOGNIZED_FORMAT` error.
 */
export function parseBill(channel: BillChannel, source: AsyncIterable<Uint8Array>): AsyncIterable<BillEvent> {
  switch (channel) {
    case 'ALIPAY':
      return parseAlipayBill(source);
    case 'WECHAT_PAY':
      return parseWechatPayBill(source);
    case 'SANDBOX':
      return parseSandboxBill(source);
    default: {
      const unknown: never = channel;
      throw new Error(`no bill parser for channel ${String(unknown)}`);
    }
  }
}

/**
 * Which channel's bill layout the first bytes of a file have, if any: an Alipay bill decodes as GBK to its
 * `#支付宝…` preamble or header, a WeChat Pay bill as UTF-8 to its `交易时间,…` header, a sandbox bill to its own.
 */
export function sniffBillChannel(head: Uint8Array): BillChannel | undefined {
  const utf8 = new TextDecoder('utf-8').decode(head);
  if (utf8.startsWith(SANDBOX_BILL_HEADER)) return 'SANDBOX';
  if (utf8.startsWith('交易时间,') && utf8.includes('微信订单号')) return 'WECHAT_PAY';
  const gbk = new TextDecoder('gbk').decode(head);
  if (gbk.startsWith('#支付宝') || gbk.includes('支付宝交易号,')) return 'ALIPAY';
  return undefined;
}
