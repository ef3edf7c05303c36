import type { BillSource, DownloadedBill } from '#app/ports.ts';
import { businessDayWindow } from '#domain/business-day.ts';
import { writeSandboxBill } from '../bills/sandbox-bill.ts';
import type { SandboxStore } from './sandbox-store.ts';

/**
 * The sandbox channel publishing its own daily bill, as Alipay and WeChat Pay do: once its business day (in its
 * settlement zone) is over, the bill is written from the sandbox's own records in the sandbox bill layout.
 */
export class SandboxBillSource implements BillSource {
  constructor(
    private readonly store: SandboxStore,
    private readonly zone: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async download(date: string): Promise<DownloadedBill> {
    const { to } = businessDayWindow(this.zone, date);
    if (this.clock().toISOString() < to)
      return { status: 'NOT_READY', reason: `the sandbox's day ${date} is not over` };
    const chunks: Uint8Array[] = [];
    for await (const chunk of writeSandboxBill(this.store.billOf(date))) chunks.push(chunk);
    return { status: 'READY', bytes: Buffer.concat(chunks), archive: false };
  }
}
