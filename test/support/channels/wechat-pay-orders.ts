import { randomInt } from 'node:crypto';
import { toWechatTime } from '#adapters/channels/wechat-pay/transformers.ts';
import type { BillRecord } from '../bills.ts';

/** An order held by the local WeChat Pay server, in the shape `GET …/out-trade-no/{no}` answers. */
export interface LocalOrder {
  appid: string;
  mchid: string;
  out_trade_no: string;
  trade_type: 'NATIVE' | 'JSAPI' | 'MWEB';
  trade_state: string;
  trade_state_desc: string;
  description: string;
  notify_url: string;
  time_expire?: string;
  amount: { total: number; currency: string };
  payer?: { openid: string };
  transaction_id?: string;
  success_time?: string;
}

/** A refund held by the local WeChat Pay server. */
export interface LocalRefund {
  refund_id: string;
  out_refund_no: string;
  out_trade_no: string;
  transaction_id: string;
  status: 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL';
  create_time: string;
  success_time?: string;
  notify_url?: string;
  amount: { refund: number; total: number; currency: string };
}

/** An answer of the local server before it is signed: HTTP status and JSON body (none for 204). */
export interface LocalAnswer {
  status: number;
  body?: unknown;
}

const TRADE_TYPES = { native: 'NATIVE', jsapi: 'JSAPI', h5: 'MWEB' } as const;

function fail(status: number, code: string, message: string): LocalAnswer {
  return { status, body: { code, message } };
}

function digits(count: number): string {
  return Array.from({ length: count }, () => randomInt(10)).join('');
}

function nowWechat(): string {
  return toWechatTime(new Date().toISOString());
}

type Json = Record<string, unknown>;

const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});

/**
 * The in-memory business of the local WeChat Pay server: prepay (Native/JSAPI/H5), query, close, refunds. It checks
 * what WeChat Pay checks that matters to a client (account, amounts, states), not every field rule.
 */
export class LocalOrderBook {
  readonly orders = new Map<string, LocalOrder>();
  readonly refunds = new Map<string, LocalRefund>();

  constructor(private readonly account: { mchId: string; appId: string }) {}

  /** `POST /v3/pay/transactions/{kind}`. */
  prepay(kind: keyof typeof TRADE_TYPES, body: Json): LocalAnswer {
    const amount = obj(body.amount);
    const outTradeNo = String(body.out_trade_no ?? '');
    if (body.mchid !== this.account.mchId || body.appid !== this.account.appId) {
      return fail(400, 'APPID_MCHID_NOT_MATCH', 'appid and mchid do not match');
    }
    if (!/^[A-Za-z0-9_\-|*]{6,32}$/.test(outTradeNo)) return fail(400, 'PARAM_ERROR', 'out_trade_no is invalid');
    if (!Number.isSafeInteger(amount.total) || Number(amount.total) <= 0 || amount.currency !== 'CNY') {
      return fail(400, 'PARAM_ERROR', 'amount is invalid');
    }
    if (!body.description || !body.notify_url) return fail(400, 'PARAM_ERROR', 'description and notify_url required');
    const openid = obj(body.payer).openid;
    if (kind === 'jsapi' && typeof openid !== 'string') return fail(400, 'PARAM_ERROR', 'payer.openid required');
    if (kind === 'h5' && !obj(body.scene_info).payer_client_ip) {
      return fail(400, 'PARAM_ERROR', 'scene_info.payer_client_ip required');
    }
    const existing = this.orders.get(outTradeNo);
    if (existing && existing.trade_state !== 'NOTPAY') return fail(400, 'ORDERPAID', 'order is paid or closed');
    if (!existing) {
      this.orders.set(outTradeNo, {
        appid: this.account.appId,
        mchid: this.account.mchId,
        out_trade_no: outTradeNo,
        trade_type: TRADE_TYPES[kind],
        trade_state: 'NOTPAY',
        trade_state_desc: '订单未支付',
        description: String(body.description),
        notify_url: String(body.notify_url),
        time_expire: typeof body.time_expire === 'string' ? body.time_expire : undefined,
        amount: { total: Number(amount.total), currency: 'CNY' },
        payer: typeof openid === 'string' ? { openid } : undefined,
      });
    }
    const prepayId = `wx${outTradeNo}`;
    if (kind === 'native') return { status: 200, body: { code_url: `weixin://wxpay/bizpayurl?pr=${outTradeNo}` } };
    if (kind === 'h5')
      return { status: 200, body: { h5_url: `https://wx.tenpay.com/cgi-bin/mmpayweb-bin?p=${prepayId}` } };
    return { status: 200, body: { prepay_id: prepayId } };
  }

  /** `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=`. */
  query(outTradeNo: string, mchid: string | null): LocalAnswer {
    const order = this.orders.get(outTradeNo);
    if (mchid !== this.account.mchId) return fail(400, 'PARAM_ERROR', 'mchid is invalid');
    if (!order) return fail(404, 'ORDER_NOT_EXIST', 'order does not exist');
    const { notify_url: _notifyUrl, description: _description, time_expire: _timeExpire, ...view } = order;
    return { status: 200, body: view };
  }

  /** `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`: 204, or `ORDERPAID` for a paid order. */
  close(outTradeNo: string, body: Json): LocalAnswer {
    const order = this.orders.get(outTradeNo);
    if (body.mchid !== this.account.mchId) return fail(400, 'PARAM_ERROR', 'mchid is invalid');
    if (!order) return fail(404, 'ORDER_NOT_EXIST', 'order does not exist');
    if (order.trade_state === 'SUCCESS' || order.trade_state === 'REFUND') {
      return fail(400, 'ORDERPAID', 'order is paid');
    }
    if (order.trade_state === 'NOTPAY' || order.trade_state === 'USERPAYING') {
      Object.assign(order, { trade_state: 'CLOSED', trade_state_desc: '订单已关闭' });
    }
    return { status: 204 };
  }

  /** The payer pays (now, or at `at`): `SUCCESS` with a transaction id and success time. */
  pay(outTradeNo: string, at: Date = new Date()): LocalOrder {
    const order = this.orders.get(outTradeNo);
    if (order?.trade_state !== 'NOTPAY') throw new Error(`order ${outTradeNo} is not payable`);
    return Object.assign(order, {
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      transaction_id: `42000${digits(23)}`,
      success_time: toWechatTime(at.toISOString()),
    });
  }

  /**
   * The trade bill (ALL) lines of the Asia/Shanghai day `[from, to)`: each order paid and each refund succeeded in it,
   * with WeChat Pay's 0.6 % fee (returned on a refund). Payment ids are `pay_` + `out_trade_no`, as the gateway's.
   */
  billRecords(from: string, to: string): BillRecord[] {
    const inDay = (time: string | undefined) => {
      const at = time === undefined ? undefined : new Date(time).toISOString();
      return at !== undefined && at >= from && at < to;
    };
    const fee = (amount: number) => Math.floor((amount * 6 + 500) / 1000);
    const line = (kind: BillRecord['kind'], order: LocalOrder, gatewayId: string, amount: number, time: string) => ({
      kind,
      gatewayId,
      paymentId: `pay_${order.out_trade_no}`,
      channelTradeNo: order.transaction_id ?? '',
      amountMinor: amount,
      feeMinor: kind === 'PAYMENT' ? fee(amount) : -fee(amount),
      status: 'SUCCESS',
      occurredAt: new Date(time).toISOString(),
      subject: order.description,
    });
    const records: BillRecord[] = [];
    for (const order of this.orders.values()) {
      if (order.success_time && inDay(order.success_time)) {
        records.push(line('PAYMENT', order, `pay_${order.out_trade_no}`, order.amount.total, order.success_time));
      }
    }
    for (const refund of this.refunds.values()) {
      const order = this.orders.get(refund.out_trade_no);
      if (order && refund.status === 'SUCCESS' && refund.success_time && inDay(refund.success_time)) {
        records.push(line('REFUND', order, refund.out_refund_no, refund.amount.refund, refund.success_time));
      }
    }
    return records.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
  }

  /** `POST /v3/refund/domestic/refunds`: a new refund is `PROCESSING` and the order's state becomes `REFUND`. */
  refund(body: Json): LocalAnswer {
    const amount = obj(body.amount);
    const outRefundNo = String(body.out_refund_no ?? '');
    const order = this.orders.get(String(body.out_trade_no ?? ''));
    if (!order) return fail(404, 'RESOURCE_NOT_EXISTS', 'order does not exist');
    if (!/^[A-Za-z0-9_\-|*@]{1,64}$/.test(outRefundNo)) return fail(400, 'PARAM_ERROR', 'out_refund_no is invalid');
    const existing = this.refunds.get(outRefundNo);
    if (existing) return { status: 200, body: existing };
    if (order.trade_state !== 'SUCCESS' && order.trade_state !== 'REFUND') {
      return fail(403, 'TRADE_STATE_ERROR', 'order is not paid');
    }
    const refunded = [...this.refunds.values()]
      .filter((refund) => refund.out_trade_no === order.out_trade_no && refund.status !== 'CLOSED')
      .reduce((sum, refund) => sum + refund.amount.refund, 0);
    const requested = Number(amount.refund);
    if (amount.total !== order.amount.total || amount.currency !== 'CNY' || !(requested > 0)) {
      return fail(400, 'PARAM_ERROR', 'amount is invalid');
    }
    if (refunded + requested > order.amount.total) return fail(403, 'NOT_ENOUGH', 'refund exceeds the order');
    const refund: LocalRefund = {
      refund_id: `50000${digits(24)}`,
      out_refund_no: outRefundNo,
      out_trade_no: order.out_trade_no,
      transaction_id: order.transaction_id ?? '',
      status: 'PROCESSING',
      create_time: nowWechat(),
      notify_url: typeof body.notify_url === 'string' ? body.notify_url : undefined,
      amount: { refund: requested, total: order.amount.total, currency: 'CNY' },
    };
    this.refunds.set(outRefundNo, refund);
    Object.assign(order, { trade_state: 'REFUND', trade_state_desc: '转入退款' });
    return { status: 200, body: refund };
  }

  /** `GET /v3/refund/domestic/refunds/{out_refund_no}`. */
  queryRefund(outRefundNo: string): LocalAnswer {
    const refund = this.refunds.get(outRefundNo);
    return refund ? { status: 200, body: refund } : fail(404, 'RESOURCE_NOT_EXISTS', 'refund does not exist');
  }

  /** WeChat Pay finishes a refund. */
  settleRefund(outRefundNo: string, status: 'SUCCESS' | 'CLOSED' | 'ABNORMAL'): LocalRefund {
    const refund = this.refunds.get(outRefundNo);
    if (refund?.status !== 'PROCESSING') throw new Error(`refund ${outRefundNo} is not processing`);
    return Object.assign(refund, { status, success_time: status === 'SUCCESS' ? nowWechat() : undefined });
  }
}
