import type { BillChannel } from '#domain/bill.ts';
import { BillCheck, type BillVerdict } from '#domain/bill-check.ts';
import { parseBill, sniffBillChannel } from './parse-bill.ts';

/**
 * Reads a whole bill (streaming, nothing kept but counts) and answers whether it is `channel`'s bill of the business
 * day `date` in `zone`, before it is stored or reconciled (the upload command refuses a wrong bill with it).
 */
export async function inspectBill(
  channel: BillChannel,
  source: AsyncIterable<Uint8Array>,
  date: string,
  zone: string,
): Promise<BillVerdict> {
  const head: Uint8Array[] = [];
  let headBytes = 0;
  async function* tap(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (headBytes < 4096) {
        head.push(chunk.subarray(0, 4096 - headBytes));
        headBytes += head.at(-1)?.length ?? 0;
      }
      yield chunk;
    }
  }
  const check = new BillCheck(channel, date, zone);
  for await (const event of parseBill(channel, tap())) check.observe(event);
  return check.verdict(sniffBillChannel(Buffer.concat(head)));
}
