import type { GatewayConfig } from '#shared/config.ts';
import { S3Files } from '../aws/s3-files.ts';
import { parseBill, sniffBillChannel } from '../bills/parse-bill.ts';

/** The bills and reports buckets (S3) and the channel bill parsers: reconciliation only. */
export function fileParts(config: GatewayConfig) {
  return {
    files: new S3Files({ bills: config.billsBucket, reports: config.reportsBucket }),
    bills: { parse: parseBill, sniff: sniffBillChannel },
  };
}
