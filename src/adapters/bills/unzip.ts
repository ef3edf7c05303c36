import { unzipSync } from 'fflate';

/** Bytes a bill archive may unpack to (a day's trade-detail bill is tens of MB at most). */
const MAX_UNPACKED_BYTES = 512 * 1024 * 1024;

/**
 * The trade-detail CSV of a bill archive (Alipay's `.csv.zip` holds `…_业务明细.csv` and `…_业务明细(汇总).csv`, the
 * per-day summary): the `.csv` entry whose name says 业务明细 but not 汇总, else the only `.csv` entry. Names are
 * read as UTF-8 when the archive flags them so, else as GBK (Alipay's archives are written on Chinese Windows).
 * `undefined` when the archive is unreadable, too large, or holds no such single entry.
 */
export function unzipTradeBill(archive: Uint8Array): Uint8Array | undefined {
  let entries: Record<string, Uint8Array>;
  let unpacked = 0;
  try {
    entries = unzipSync(archive, {
      filter: (file) => {
        unpacked += file.originalSize;
        return /\.csv$/i.test(file.name) && unpacked <= MAX_UNPACKED_BYTES;
      },
    });
  } catch {
    return undefined;
  }
  if (unpacked > MAX_UNPACKED_BYTES) return undefined;
  const csv = Object.entries(entries).map(([name, bytes]) => ({ name: entryName(name), bytes }));
  const detail = csv.filter(({ name }) => name.includes('业务明细') && !name.includes('汇总'));
  if (detail.length === 1) return detail[0]?.bytes;
  return csv.length === 1 ? csv[0]?.bytes : undefined;
}

/** fflate reads a name without the UTF-8 flag as Latin-1: its bytes are recovered and read as GBK. */
function entryName(name: string): string {
  if ([...name].some((char) => char.charCodeAt(0) > 0xff)) return name;
  return new TextDecoder('gbk').decode(Uint8Array.from(name, (char) => char.charCodeAt(0)));
}
