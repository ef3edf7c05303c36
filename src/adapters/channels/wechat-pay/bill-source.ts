import { createHash, timingSafeEqual } from 'node:crypto';
import type { BillSource, DownloadedBill } from '#app/ports.ts';
import { checkDate } from '#domain/buckets.ts';
import type { WechatPayConfig } from '#domain/channel-config.ts';
import { decodeAnswer, WechatPayClient, type WechatPayClientOptions } from './client.ts';
import { WechatPayBusinessError, WechatPayResponseInvalidError } from './errors.ts';
import { tradeBillSchema } from './transformers.ts';
import type { WechatPayConfigSource } from './wechat-pay-channel.ts';

/** The largest trade bill downloaded (a day's bill of a busy merchant is tens of MB). */
export const MAX_BILL_BYTES = 512 * 1024 * 1024;

/** WeChat Pay's answers while a day's bill does not exist yet (it is built from 09:00 Beijing time the next day). */
const NOT_READY_CODES = new Set(['NO_STATEMENT_EXIST', 'STATEMENT_CREATING']);

/**
 * WeChat Pay's daily trade bill (API v3): `GET /v3/bill/tradebill?bill_date=…&bill_type=ALL` (signed, answer
 * verified) names a `download_url` (valid 30 s) and the SHA1 of the file; the file is then fetched with a signed GET
 * on the same API origin and its SHA1 compared with `hash_value` before anything of it is used. A bill not built yet
 * (`NO_STATEMENT_EXIST`, `STATEMENT_CREATING`) is `NOT_READY`; every other failure throws.
 */
export class WechatPayBillSource implements BillSource {
  private session?: { config: WechatPayConfig; client: WechatPayClient };

  constructor(
    private readonly config: WechatPayConfigSource,
    private readonly options: WechatPayClientOptions = {},
  ) {}

  async download(date: string): Promise<DownloadedBill> {
    const client = await this.client();
    let answer: unknown;
    try {
      answer = await client.request('GET', `/v3/bill/tradebill?bill_date=${checkDate(date)}&bill_type=ALL`);
    } catch (error) {
      if (error instanceof WechatPayBusinessError && NOT_READY_CODES.has(error.wechatCode)) {
        return { status: 'NOT_READY', reason: `WeChat Pay: ${error.wechatCode}` };
      }
      throw error;
    }
    const bill = decodeAnswer(tradeBillSchema, answer);
    if (bill.hash_type.toUpperCase() !== 'SHA1') {
      throw new WechatPayResponseInvalidError(`unknown bill hash_type ${bill.hash_type}`);
    }
    const bytes = await client.download(bill.download_url, MAX_BILL_BYTES);
    if (!sameSha1(bytes, bill.hash_value)) {
      throw new WechatPayResponseInvalidError('the downloaded bill does not match its hash_value (SHA1)');
    }
    return { status: 'READY', bytes, archive: false };
  }

  /** The client of the current configuration, rebuilt only when the configuration changed (see `ChannelAccounts`). */
  private async client(): Promise<WechatPayClient> {
    const source = this.config;
    const config = typeof source === 'function' ? await source() : source;
    if (this.session?.config !== config) this.session = { config, client: new WechatPayClient(config, this.options) };
    return this.session.client;
  }
}

function sameSha1(bytes: Uint8Array, expectedHex: string): boolean {
  const actual = createHash('sha1').update(bytes).digest();
  const expected = Buffer.from(expectedHex.trim().toLowerCase(), 'hex');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}
