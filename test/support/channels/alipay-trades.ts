import { toShanghaiTime } from '#adapters/channels/alipay/transformers.ts';
import { addMinor, formatAmount, parseAmount } from '#domain/money.ts';
import type { BillRecord } from '../bills.ts';

/** A trade as the local Alipay server keeps it. Amounts are yuan strings, as on the wire. */
export interface LocalAlipayTrade {
  outTradeNo: string;
  tradeNo: string;
  totalAmount: string;
  subject: string;
  status: 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED' | 'TRADE_FINISHED';
  notifyUrl?: string;
  qrCode: string;
  createdAt: Date;
  paidAt?: Date;
  /** Refunds by `out_request_no`. */
  refunds: Map<string, { refundAmount: string; at: Date }>;
  refundedFen: number;
}

/** A `<method>_response` member: `code` + `msg`, the method's fields or `sub_code` / `sub_msg`. */
export type AlipayAnswer = Record<string, unknown>;

/** The demo buyer who pays every trade. */
export const LOCAL_BUYER = { buyerId: '2088102177846875', buyerLogonId: '158****1562' } as const;

const success = (fields: AlipayAnswer): AlipayAnswer => ({ code: '10000', msg: 'Success', ...fields });
const businessFailed = (subCode: string, subMsg: string): AlipayAnswer => ({
  code: '40004',
  msg: 'Business Failed',
  sub_code: subCode,
  sub_msg: subMsg,
});
const invalidArgument = (subMsg: string): AlipayAnswer => ({
  code: '40002',
  msg: 'Invalid Arguments',
  sub_code: 'isv.invalid-parameter',
  sub_msg: subMsg,
});
const tradeNotExist = () => businessFailed('ACQ.TRADE_NOT_EXIST', '交易不存在');

/** Alipay's service fee on an amount: 0.6 %, rounded half up to the fen. */
const serviceFee = (amountMinor: number) => Math.floor((amountMinor * 6 + 500) / 1000);

function fen(yuan: unknown): number | undefined {
  try {
    return parseAmount(yuan, 'CNY').minor;
  } catch {
    return undefined;
  }
}

/**
 * The in-memory trade book behind the local Alipay server: `alipay.trade.*` semantics as Alipay documents them
 * (close only while unpaid, synchronous refunds idempotent by `out_request_no`, a full refund closes the trade).
 */
export class AlipayTradeBook {
  readonly trades = new Map<string, LocalAlipayTrade>();
  private sequence = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Opens (or finds again) a trade for precreate / page.pay / wap.pay; an answer when Alipay would refuse. */
  open(biz: Record<string, unknown>, notifyUrl: string | undefined): LocalAlipayTrade | AlipayAnswer {
    const outTradeNo = typeof biz.out_trade_no === 'string' ? biz.out_trade_no : '';
    const amount = fen(biz.total_amount);
    if (!outTradeNo || amount === undefined || typeof biz.subject !== 'string') {
      return invalidArgument('out_trade_no, total_amount and subject are required');
    }
    const existing = this.trades.get(outTradeNo);
    if (existing) {
      if (existing.status === 'TRADE_CLOSED') return businessFailed('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
      if (existing.status !== 'WAIT_BUYER_PAY') return businessFailed('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
      return existing;
    }
    this.sequence += 1;
    const tradeNo = `2026${String(this.sequence).padStart(24, '0')}`;
    const trade: LocalAlipayTrade = {
      outTradeNo,
      tradeNo,
      totalAmount: formatAmount(amount, 'CNY'),
      subject: biz.subject,
      status: 'WAIT_BUYER_PAY',
      notifyUrl,
      qrCode: `https://qr.alipay.com/bax0${tradeNo.slice(-8)}`,
      createdAt: this.now(),
      refunds: new Map(),
      refundedFen: 0,
    };
    this.trades.set(outTradeNo, trade);
    return trade;
  }

  /** `alipay.trade.precreate`: the trade's `qr_code`. */
  precreate(biz: Record<string, unknown>, notifyUrl: string | undefined): AlipayAnswer {
    const trade = this.open(biz, notifyUrl);
    if (!('tradeNo' in trade)) return trade;
    return success({ out_trade_no: trade.outTradeNo, qr_code: trade.qrCode });
  }

  /** `alipay.trade.query` (`ACQ.TRADE_NOT_EXIST` for an unknown trade). */
  query(biz: Record<string, unknown>): AlipayAnswer {
    const trade = this.find(biz);
    if (!trade) return tradeNotExist();
    return success({
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      buyer_logon_id: LOCAL_BUYER.buyerLogonId,
      trade_status: trade.status,
      total_amount: trade.totalAmount,
      send_pay_date: trade.paidAt ? toShanghaiTime(trade.paidAt) : undefined,
      buyer_user_id: trade.paidAt ? LOCAL_BUYER.buyerId : undefined,
    });
  }

  /** `alipay.trade.close`: only an unpaid trade closes (`ACQ.TRADE_STATUS_ERROR` otherwise). */
  close(biz: Record<string, unknown>): AlipayAnswer {
    const trade = this.find(biz);
    if (!trade) return tradeNotExist();
    if (trade.status !== 'WAIT_BUYER_PAY') return businessFailed('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
    trade.status = 'TRADE_CLOSED';
    return success({ trade_no: trade.tradeNo, out_trade_no: trade.outTradeNo });
  }

  /** `alipay.trade.refund`: synchronous; a repeated `out_request_no` answers `fund_change` `N`. */
  refund(biz: Record<string, unknown>): AlipayAnswer {
    const trade = this.find(biz);
    if (!trade) return tradeNotExist();
    const requestNo = typeof biz.out_request_no === 'string' ? biz.out_request_no : trade.outTradeNo;
    const amount = fen(biz.refund_amount);
    if (amount === undefined) return invalidArgument('refund_amount is invalid');
    const answer = (fundChange: 'Y' | 'N') =>
      success({
        trade_no: trade.tradeNo,
        out_trade_no: trade.outTradeNo,
        buyer_logon_id: LOCAL_BUYER.buyerLogonId,
        fund_change: fundChange,
        refund_fee: formatAmount(trade.refundedFen, 'CNY'),
      });
    // A retry of the same refund request moves no money again.
    if (trade.refunds.has(requestNo)) return answer('N');
    if (trade.status !== 'TRADE_SUCCESS') return businessFailed('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
    const total = fen(trade.totalAmount) ?? 0;
    if (addMinor(trade.refundedFen, amount) > total) {
      return businessFailed('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限');
    }
    trade.refunds.set(requestNo, { refundAmount: formatAmount(amount, 'CNY'), at: this.now() });
    trade.refundedFen = addMinor(trade.refundedFen, amount);
    if (trade.refundedFen === total) trade.status = 'TRADE_CLOSED';
    return answer('Y');
  }

  /** `alipay.trade.fastpay.refund.query`: `REFUND_SUCCESS`, or an empty success for an unknown request. */
  refundQuery(biz: Record<string, unknown>): AlipayAnswer {
    const trade = this.find(biz);
    if (!trade) return tradeNotExist();
    const requestNo = typeof biz.out_request_no === 'string' ? biz.out_request_no : '';
    const refund = trade.refunds.get(requestNo);
    // Alipay answers an unknown refund request with an empty success.
    if (!refund) return success({});
    return success({
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      out_request_no: requestNo,
      total_amount: trade.totalAmount,
      refund_amount: refund.refundAmount,
      refund_status: 'REFUND_SUCCESS',
    });
  }

  /** The buyer pays (now, or at `at`): `WAIT_BUYER_PAY` → `TRADE_SUCCESS`. */
  pay(outTradeNo: string, at: Date = this.now()): LocalAlipayTrade {
    const trade = this.trades.get(outTradeNo);
    if (!trade) throw new Error(`no local Alipay trade ${outTradeNo}`);
    if (trade.status !== 'WAIT_BUYER_PAY') throw new Error(`trade ${outTradeNo} is ${trade.status}, not payable`);
    trade.status = 'TRADE_SUCCESS';
    trade.paidAt = at;
    return trade;
  }

  /**
   * The trade bill (业务明细) lines of the Asia/Shanghai day `[from, to)`: each trade paid and each refund made in it,
   * with Alipay's 0.6 % service fee (returned on a refund).
   */
  billRecords(from: string, to: string): BillRecord[] {
    const inDay = (at: Date | undefined) => at !== undefined && at.toISOString() >= from && at.toISOString() < to;
    const records: BillRecord[] = [];
    for (const trade of this.trades.values()) {
      const line = (kind: BillRecord['kind'], gatewayId: string, amountMinor: number, at: Date): BillRecord => ({
        kind,
        gatewayId,
        paymentId: trade.outTradeNo,
        channelTradeNo: trade.tradeNo,
        amountMinor,
        feeMinor: kind === 'PAYMENT' ? serviceFee(amountMinor) : -serviceFee(amountMinor),
        status: 'SUCCESS',
        occurredAt: at.toISOString(),
        subject: trade.subject,
      });
      if (trade.paidAt && inDay(trade.paidAt)) {
        records.push(line('PAYMENT', trade.outTradeNo, fen(trade.totalAmount) ?? 0, trade.paidAt));
      }
      for (const [requestNo, refund] of trade.refunds) {
        if (inDay(refund.at)) records.push(line('REFUND', requestNo, fen(refund.refundAmount) ?? 0, refund.at));
      }
    }
    return records.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
  }

  private find(biz: Record<string, unknown>): LocalAlipayTrade | undefined {
    if (typeof biz.out_trade_no === 'string') return this.trades.get(biz.out_trade_no);
    return [...this.trades.values()].find((trade) => trade.tradeNo === biz.trade_no);
  }
}
