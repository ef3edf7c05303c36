import type { BillSource } from '#app/ports.ts';
import type { BillChannel } from '#domain/bill.ts';
import type { GatewayConfig } from '#shared/config.ts';
import { S3Files } from '../aws/s3-files.ts';
import { inspectBill } from '../bills/bill-check.ts';
import { parseBill, sniffBillChannel } from '../bills/parse-bill.ts';
import { unzipTradeBill } from '../bills/unzip.ts';
import { SandboxBillSource } from '../channels/sandbox-bill-source.ts';
import type { DynamoParts } from './dynamo.ts';

/** The bills and reports buckets (S3) and the channel bill parsers: reconciliation only. */
export function fileParts(config: GatewayConfig) {
  return {
    files: new S3Files({ bills: config.billsBucket, reports: config.reportsBucket }),
    bills: { parse: parseBill, sniff: sniffBillChannel },
  };
}

/**
 * The bill intake (FetchBills, the reconcile CLI): the whole-bill check, archive unpacking (fflate), and where each
 * channel's daily bill is downloaded from — the sandbox publishes its own when enabled.
 */
export function billIntakeParts(
  config: GatewayConfig,
  base: Pick<DynamoParts, 'sandboxStore' | 'settlementTimeZones' | 'clock'>,
) {
  const sources = new Map<BillChannel, BillSource>();
  if (config.sandboxEnabled) {
    sources.set('SANDBOX', new SandboxBillSource(base.sandboxStore, base.settlementTimeZones.SANDBOX, base.clock));
  }
  return {
    bills: { parse: parseBill, sniff: sniffBillChannel, inspect: inspectBill, unzip: unzipTradeBill },
    sources,
  };
}
