import type { BillSource, DownloadedBill } from '#app/ports.ts';
import { checkDate } from '#domain/buckets.ts';
import type { AlipayConfig } from '#domain/channel-config.ts';
import * as z from '#shared/zod.ts';
import { AlipayClient, type AlipayClientOptions } from './client.ts';
import { AlipayBusinessError, AlipayResponseInvalidError } from './errors.ts';

/** The largest bill archive downloaded (a day's zipped trade bill of a busy merchant is tens of MB). */
export const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;

const METHOD = 'alipay.data.dataservice.bill.downloadurl.query';

/** The answer of {@link METHOD}: where the day's `.csv.zip` is, for 30 seconds. */
const downloadUrlResponse = z.looseObject({ bill_download_url: z.string().check(z.minLength(1)) });

/**
 * Alipay's answers for a bill that does not exist (yet): the documented `BILL_NOT_EXIST` and the observed
 * `isp.bill_not_exist`. Alipay builds a day's bill the next morning (by ~09:00 Beijing time); a day without trades has
 * none at all.
 */
const NOT_READY_SUB_CODES = new Set(['isp.bill_not_exist', 'BILL_NOT_EXIST']);

/** Hosts Alipay serves bill files from (`dwbillcenter.alipay.com`), besides the configured gateway's own host name. */
const ALIPAY_FILE_HOST = /(^|\.)(alipay\.com|alipaydev\.com)$/;

/** Fetches a file from a URL a channel handed out: the gateway's guarded egress (`GuardedEgress.download`). */
export interface FileDownloader {
  download(url: string, maxBytes: number): Promise<Uint8Array>;
}

/**
 * Alipay's daily trade bill: `alipay.data.dataservice.bill.downloadurl.query` (`bill_type` `trade`, signed RSA2,
 * answer verified) names a `bill_download_url`, valid 30 seconds, which is fetched through the guarded egress. The
 * file is a `.csv.zip` holding the trade detail (业务明细) and its summary (汇总); the archive is returned whole
 * (the intake unpacks the detail and keeps the archive as the original). A bill not built yet is `NOT_READY`; every
 * other failure throws.
 */
export class AlipayBillSource implements BillSource {
  private current?: AlipayClient;

  constructor(
    private readonly config: AlipayConfig | (() => Promise<AlipayConfig>),
    private readonly files: FileDownloader,
    private readonly options: AlipayClientOptions = {},
  ) {}

  async download(date: string): Promise<DownloadedBill> {
    const client = await this.client();
    const reply = await client.call(METHOD, { bill_type: 'trade', bill_date: checkDate(date) }, downloadUrlResponse);
    if (!reply.ok) {
      const subCode = reply.error.sub_code;
      if (subCode && NOT_READY_SUB_CODES.has(subCode)) return { status: 'NOT_READY', reason: `Alipay: ${subCode}` };
      throw new AlipayBusinessError(reply.error.code, subCode, METHOD);
    }
    const url = fileUrl(reply.body.bill_download_url, client.config.gatewayUrl);
    return { status: 'READY', bytes: await this.files.download(url, MAX_ARCHIVE_BYTES), archive: true };
  }

  /** The client of the current configuration, rebuilt only when the configuration changed (see `ChannelAccounts`). */
  private async client(): Promise<AlipayClient> {
    const source = this.config;
    const config = typeof source === 'function' ? await source() : source;
    if (this.current?.config !== config) this.current = new AlipayClient(config, this.options);
    return this.current;
  }
}

/**
 * The URL the bill file is fetched from: on an Alipay host, over https (Alipay hands out `http://dwbillcenter…`
 * links; the file is fetched over TLS all the same), or on the configured gateway's own host name (a local or proxy
 * gateway) with the gateway's scheme. Any other host is refused: the link came from a verified answer, but only an
 * Alipay host may serve Alipay's bill.
 */
export function fileUrl(link: string, gatewayUrl: string): string {
  if (!URL.canParse(link)) throw new AlipayResponseInvalidError(`${METHOD}: bill_download_url is not a URL`);
  const url = new URL(link);
  const gateway = new URL(gatewayUrl);
  if (url.hostname === gateway.hostname) {
    url.protocol = gateway.protocol;
    return url.toString();
  }
  if (!ALIPAY_FILE_HOST.test(url.hostname)) {
    throw new AlipayResponseInvalidError(`${METHOD}: bill_download_url is not on an Alipay host`);
  }
  url.protocol = 'https:';
  url.port = '';
  return url.toString();
}
