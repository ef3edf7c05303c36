import type { BillSource } from '#app/ports.ts';
import type { BillChannel } from '#domain/bill.ts';
import { alipayConfig, wechatPayConfig } from '#domain/channel-fields.ts';
import type { GatewayConfig } from '#shared/config.ts';
import { S3Files } from '../aws/s3-files.ts';
import { inspectBill } from '../bills/bill-check.ts';
import { parseBill, sniffBillChannel } from '../bills/parse-bill.ts';
import { unzipTradeBill } from '../bills/unzip.ts';
import { AlipayBillSource } from '../channels/alipay/bill-source.ts';
import { SandboxBillSource } from '../channels/sandbox-bill-source.ts';
import { WechatPayBillSource } from '../channels/wechat-pay/bill-source.ts';
import { GuardedEgress } from '../http-notifier.ts';
import { channelAccountParts } from './channels.ts';
import type { DynamoParts } from './dynamo.ts';

/** How long one bill file download may take (a zipped day of a busy merchant is tens of MB). */
const BILL_DOWNLOAD_TIMEOUT_MS = 120_000;

/** The bills and reports buckets (S3): the reconciliation runs, the bill intake and the report URLs. */
export function fileParts(config: GatewayConfig) {
  return { files: new S3Files({ bills: config.billsBucket, reports: config.reportsBucket }) };
}

/** The channel bill parsers: what a reconciliation run reads a bill with (`GetReconciliation` never parses one). */
export function billParserParts() {
  return { bills: { parse: parseBill, sniff: sniffBillChannel } };
}

/**
 * The bill intake (FetchBills, the reconcile CLI): the whole-bill check, archive unpacking (fflate), and where each
 * channel's daily bill is downloaded from — Alipay and WeChat Pay through their signed clients (their accounts as
 * the payment channels use them; Alipay's file through the guarded egress), the sandbox from its own records when
 * enabled.
 */
export function billIntakeParts(
  config: GatewayConfig,
  base: Pick<DynamoParts, 'config' | 'channelProfiles' | 'sandboxStore' | 'settlementTimeZones' | 'clock'>,
) {
  const { accounts } = channelAccountParts(base);
  const egress = new GuardedEgress(
    { allowLoopback: config.allowLoopbackHttp },
    { timeoutMs: BILL_DOWNLOAD_TIMEOUT_MS },
  );
  const timeouts = { timeoutMs: BILL_DOWNLOAD_TIMEOUT_MS };
  const sources = new Map<BillChannel, BillSource>([
    ['ALIPAY', new AlipayBillSource(() => accounts.config('ALIPAY', alipayConfig), egress, timeouts)],
    ['WECHAT_PAY', new WechatPayBillSource(() => accounts.config('WECHAT_PAY', wechatPayConfig), timeouts)],
  ]);
  if (config.sandboxEnabled) {
    sources.set('SANDBOX', new SandboxBillSource(base.sandboxStore, base.settlementTimeZones.SANDBOX, base.clock));
  }
  return {
    bills: { ...billParserParts().bills, inspect: inspectBill, unzip: unzipTradeBill },
    sources,
  };
}
