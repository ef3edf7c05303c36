// Over 250 lines: generators of bills in the three channel layouts (sandbox, Alipay GBK, WeChat Pay backticks).
import fc from 'fast-check';
import type { BillChannel } from '#domain/bill.ts';
import { formatAmount } from '#domain/money.ts';

/** One bill line as the generator means it, before it is written in a channel's layout. */
export interface BillRecord {
  kind: 'PAYMENT' | 'REFUND';
  /** `pay_…` or `ref_…`. */
  gatewayId: string;
  /** The payment: itself for a payment line, the refunded one for a refund line. */
  paymentId: string;
  channelTradeNo: string;
  amountMinor: number;
  /** Charged (≥ 0) on a payment, returned (≤ 0) on a refund. */
  feeMinor: number;
  status: string;
  occurredAt: string;
  subject: string;
}

/** What parsing a generated bill must add up to. */
export interface BillTotals {
  lines: number;
  paymentMinor: number;
  refundMinor: number;
  feeMinor: number;
}

/** Options of the writers: line ending, and whether to leave the trailer/summary out (a truncated file). */
export interface WriteOptions {
  eol?: '\n' | '\r\n';
  truncate?: boolean;
}

/** Sums records the way a parse is summed. */
export function totalsOf(records: readonly BillRecord[]): BillTotals {
  const totals: BillTotals = { lines: 0, paymentMinor: 0, refundMinor: 0, feeMinor: 0 };
  for (const record of records) addTo(totals, record);
  return totals;
}

function addTo(totals: BillTotals, record: { kind: string; amountMinor: number; feeMinor: number }): void {
  totals.lines += 1;
  if (record.kind === 'PAYMENT') totals.paymentMinor += record.amountMinor;
  else totals.refundMinor += record.amountMinor;
  totals.feeMinor += record.feeMinor;
}

const yuan = (minor: number) => formatAmount(minor, 'CNY');
/** Asia/Shanghai wall time of an instant, as Alipay and WeChat Pay write it. */
export const shanghaiTime = (iso: string) =>
  new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
const chineseDate = (day: string) => `${day.slice(0, 4)}年${day.slice(5, 7)}月${day.slice(8, 10)}日 00:00:00`;
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** Alipay 业务明细 preamble and header for the bill day `date` (Asia/Shanghai). */
export function alipayHead(date: string, eol = '\r\n'): string {
  return [
    '#支付宝业务明细查询',
    '#账号：[20880000000000000156]',
    `#起始日期：[${chineseDate(date)}]   终止日期：[${chineseDate(nextDay(date))}]`,
    '#-----------------------------------------业务明细列表----------------------------------------',
    '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,' +
      '商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,' +
      '商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注',
    '',
  ].join(eol);
}

/** One Alipay data row: values tab-padded as Alipay does, refunds negative, the fee negative on payments. */
export function alipayRow(record: BillRecord): string {
  const refund = record.kind === 'REFUND';
  const amount = yuan(refund ? -record.amountMinor : record.amountMinor);
  const time = shanghaiTime(record.occurredAt);
  return [
    `${record.channelTradeNo}\t`,
    `${record.paymentId}\t`,
    refund ? '退款\t' : '交易\t',
    record.subject,
    time,
    time,
    ...['\t', '\t', '\t', '\t', '*杨(137****2600)\t'],
    amount,
    amount,
    ...['0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00\t', '0.00'],
    refund ? `${record.gatewayId}\t` : '\t',
    yuan(-record.feeMinor),
    '0.00',
    '',
  ].join(',');
}

/** Alipay footer (`#…结束…`, counts, export time). */
export function alipayFoot(records: readonly BillRecord[], eol = '\r\n'): string {
  const payments = records.filter((record) => record.kind === 'PAYMENT').length;
  return [
    '#-----------------------------------------业务明细列表结束------------------------------------',
    `#交易合计：${payments}笔，商家实收共0.00元，商家优惠共0.00元`,
    `#退款合计：${records.length - payments}笔，商家实收退款共0.00元，商家优惠退款共0.00元`,
    '#导出时间：[2026年01月03日 09:38:10]',
    '',
  ].join(eol);
}

/** A whole Alipay trade bill, GBK-encoded. */
export function alipayBill(records: readonly BillRecord[], date: string, options: WriteOptions = {}): Uint8Array {
  const eol = options.eol ?? '\r\n';
  const rows = records.map((record) => alipayRow(record) + eol).join('');
  return encodeGbk(alipayHead(date, eol) + rows + (options.truncate ? '' : alipayFoot(records, eol)));
}

/** WeChat Pay's ALL trade-bill header (27 columns). */
export const WECHAT_HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,' +
  '应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,' +
  '手续费,费率,订单金额,申请退款金额,费率备注';

const fee5 = (minor: number) => `${yuan(minor)}000`;

/** One WeChat Pay data row, every value backtick-prefixed; `out_trade_no` is the payment id without `pay_`. */
export function wechatRow(record: BillRecord): string {
  const refund = record.kind === 'REFUND';
  const amount = yuan(record.amountMinor);
  const outTradeNo = record.paymentId.slice('pay_'.length);
  const values = [
    shanghaiTime(record.occurredAt),
    ...['wx8888888888888888', '1900000001', '0', ''],
    record.channelTradeNo,
    outTradeNo,
    ...['oUpF8uMuAJOM2pxb1Q', 'NATIVE', refund ? 'REFUND' : 'SUCCESS', 'OTHERS', 'CNY'],
    refund ? '0.00' : amount,
    '0.00',
    refund ? `5030${record.channelTradeNo.slice(4)}` : '0',
    refund ? record.gatewayId : '0',
    refund ? amount : '0.00',
    '0.00',
    refund ? 'ORIGINAL' : '',
    refund ? record.status : '',
    record.subject,
    '',
    fee5(record.feeMinor),
    '0.60%',
    refund ? '0.00' : amount,
    refund ? amount : '0.00',
    '',
  ];
  return values.map((value) => `\`${value}`).join(',');
}

/** The WeChat Pay summary header and line. */
export function wechatSummary(records: readonly BillRecord[], eol = '\r\n'): string {
  const totals = totalsOf(records);
  const values = [totals.lines, yuan(totals.paymentMinor), yuan(totals.refundMinor), '0.00', fee5(totals.feeMinor)];
  return (
    `总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额${eol}` +
    `${[...values, yuan(totals.paymentMinor), yuan(totals.refundMinor)].map((value) => `\`${value}`).join(',')}${eol}`
  );
}

/** A whole WeChat Pay trade bill, UTF-8. */
export function wechatPayBill(records: readonly BillRecord[], options: WriteOptions = {}): Uint8Array {
  const eol = options.eol ?? '\r\n';
  const rows = records.map((record) => wechatRow(record) + eol).join('');
  return utf8(WECHAT_HEADER + eol + rows + (options.truncate ? '' : wechatSummary(records, eol)));
}

/** One sandbox bill line. */
export function sandboxRow(record: BillRecord, currency = 'CNY'): string {
  const { gatewayId, kind, channelTradeNo, amountMinor, feeMinor, status, occurredAt } = record;
  const amount = formatAmount(amountMinor, currency);
  return [gatewayId, kind, channelTradeNo, amount, currency, formatAmount(feeMinor, currency), status, occurredAt].join(
    ',',
  );
}

/** A whole sandbox bill (CNY), UTF-8, with its `#total,<count>,<sum>` trailer. */
export function sandboxBill(records: readonly BillRecord[], options: WriteOptions = {}): Uint8Array {
  const eol = options.eol ?? '\n';
  const sum = records.reduce((total, record) => total + record.amountMinor, 0);
  const trailer = options.truncate ? '' : `#total,${records.length},${yuan(sum)}${eol}`;
  const header = 'gateway_id,type,channel_trade_no,amount,currency,fee,status,occurred_at';
  return utf8(header + eol + records.map((record) => sandboxRow(record) + eol).join('') + trailer);
}

/** Writes records in a channel's layout. */
export function billOf(channel: BillChannel, records: readonly BillRecord[], date: string, options?: WriteOptions) {
  if (channel === 'ALIPAY') return alipayBill(records, date, options);
  return channel === 'WECHAT_PAY' ? wechatPayBill(records, options) : sandboxBill(records, options);
}

/** Characters of goods names: GBK-encodable CJK, including rarer ones, full-width punctuation and ASCII. */
export const SUBJECT_CHARS = [...'测试商品会员月卡年费充值钱包龙凤鑫犇淼焱（）【】：·ABC xyz09'];

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Random records of one business day (Asia/Shanghai, every channel's default settlement zone). */
export function recordArbitrary(channel: BillChannel, date: string): fc.Arbitrary<BillRecord> {
  const dayStart = Date.parse(`${date}T00:00:00Z`) - 8 * 3_600_000;
  const id = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(hex);
  return fc
    .record({
      refund: fc.boolean(),
      id,
      parent: id,
      tradeNo: fc.bigInt({ min: 10n ** 27n, max: 10n ** 28n - 1n }).map(String),
      amountMinor: fc.integer({ min: 1, max: 100_000_000 }),
      feeMinor: fc.integer({ min: 0, max: 60_000 }),
      second: fc.integer({ min: 0, max: 86_399 }),
      subject: fc.array(fc.constantFrom(...SUBJECT_CHARS), { minLength: 1, maxLength: 16 }).map((c) => c.join('')),
      processing: channel === 'WECHAT_PAY' ? fc.boolean() : fc.constant(false),
    })
    .map((r) => ({
      kind: r.refund ? 'REFUND' : 'PAYMENT',
      gatewayId: r.refund ? `ref_${r.id}` : `pay_${r.id}`,
      paymentId: `pay_${r.refund ? r.parent : r.id}`,
      channelTradeNo: r.tradeNo,
      amountMinor: r.amountMinor,
      feeMinor: r.refund ? -r.feeMinor || 0 : r.feeMinor, // never -0
      status: r.processing ? 'PROCESSING' : 'SUCCESS',
      occurredAt: new Date(dayStart + r.second * 1000).toISOString(),
      subject: r.subject.trim() || '商品',
    }));
}

/** The `i`-th record of a large deterministic bill (no randomness: the 100,000-line test stays cheap). */
export function syntheticRecord(i: number, _channel: BillChannel, date: string): BillRecord {
  const dayStart = Date.parse(`${date}T00:00:00Z`) - 8 * 3_600_000;
  const refund = i % 7 === 3;
  const id = String(i).padStart(32, '0');
  return {
    kind: refund ? 'REFUND' : 'PAYMENT',
    gatewayId: refund ? `ref_${id}` : `pay_${id}`,
    paymentId: `pay_${id}`,
    channelTradeNo: `2026${String(i).padStart(24, '0')}`,
    amountMinor: 1 + ((i * 7919) % 500_000),
    feeMinor: refund ? -(i % 300) || 0 : i % 300,
    status: 'SUCCESS',
    occurredAt: new Date(dayStart + (i % 86_400) * 1000).toISOString(),
    subject: `会员充值${SUBJECT_CHARS[i % SUBJECT_CHARS.length]}`,
  };
}

/**
 * A bill of `count` synthetic records produced lazily, `linesPerChunk` rows per chunk, so neither side ever holds the
 * whole file. `progress` counts the chunks handed out and the totals written so far.
 */
export async function* lazyBill(
  channel: BillChannel,
  count: number,
  date: string,
  progress: { chunks: number; totals: BillTotals },
  linesPerChunk = 1000,
): AsyncGenerator<Uint8Array> {
  const encode = channel === 'ALIPAY' ? encodeGbk : utf8;
  const row =
    channel === 'ALIPAY' ? alipayRow : channel === 'WECHAT_PAY' ? wechatRow : (r: BillRecord) => sandboxRow(r);
  const head = channel === 'ALIPAY' ? alipayHead(date) : channel === 'WECHAT_PAY' ? `${WECHAT_HEADER}\r\n` : '';
  let text =
    channel === 'SANDBOX' ? 'gateway_id,type,channel_trade_no,amount,currency,fee,status,occurred_at\r\n' : head;
  let sum = 0;
  for (let i = 0; i < count; i += 1) {
    const record = syntheticRecord(i, channel, date);
    addTo(progress.totals, record);
    sum += record.amountMinor;
    text += `${row(record)}\r\n`;
    if ((i + 1) % linesPerChunk === 0) {
      progress.chunks += 1;
      yield encode(text);
      text = '';
    }
  }
  const totals = progress.totals;
  if (channel === 'SANDBOX') text += `#total,${count},${yuan(sum)}\r\n`;
  if (channel === 'WECHAT_PAY') text += wechatTotals(totals);
  if (channel === 'ALIPAY') text += alipayCounts(totals, count);
  progress.chunks += 1;
  yield encode(text);
}

function wechatTotals(t: BillTotals): string {
  const values = [t.lines, yuan(t.paymentMinor), yuan(t.refundMinor), '0.00', fee5(t.feeMinor), '0.00', '0.00'];
  return `总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n${values.map((v) => `\`${v}`).join(',')}\r\n`;
}

function alipayCounts(totals: BillTotals, count: number): string {
  const refunds = Math.floor((count + 3) / 7);
  return `#----业务明细列表结束----\r\n#交易合计：${totals.lines - refunds}笔\r\n#退款合计：${refunds}笔\r\n`;
}

/** Feeds bytes as chunks cut at the given offsets (unsorted, duplicates and out-of-range ones allowed). */
export async function* chunked(bytes: Uint8Array, cuts: readonly number[] = []): AsyncGenerator<Uint8Array> {
  const offsets = [...new Set(cuts.filter((cut) => cut > 0 && cut < bytes.length))].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...offsets, bytes.length]) {
    yield bytes.subarray(start, end);
    start = end;
  }
}

/** Drains an async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

let gbkTable: Map<string, [number, number]> | undefined;

/**
 * GBK bytes of a text. Node has no GBK encoder, so the table is Node's own GBK *decoder* run backwards over every
 * two-byte code (one decode of ~24,000 codes, once): what the encoder writes is exactly what the parser reads back.
 */
export function encodeGbk(text: string): Uint8Array {
  gbkTable ??= buildGbkTable();
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) bytes.push(code);
    else {
      const pair = gbkTable.get(char);
      if (!pair) throw new Error(`no GBK code for ${char}`);
      bytes.push(...pair);
    }
  }
  return Uint8Array.from(bytes);
}

function buildGbkTable(): Map<string, [number, number]> {
  const pairs: [number, number][] = [];
  for (let lead = 0x81; lead <= 0xfe; lead += 1) {
    for (let trail = 0x40; trail <= 0xfe; trail += 1) if (trail !== 0x7f) pairs.push([lead, trail]);
  }
  // Each code is followed by `\n`, so an unmapped code (decoded as U+FFFD, maybe plus an ASCII byte) stays alone.
  const decoded = new TextDecoder('gbk').decode(Uint8Array.from(pairs.flatMap(([lead, trail]) => [lead, trail, 0x0a])));
  const table = new Map<string, [number, number]>();
  decoded.split('\n').forEach((char, i) => {
    const pair = pairs[i];
    if (pair && char.length === 1 && char !== '\ufffd' && !table.has(char)) table.set(char, pair);
  });
  return table;
}
