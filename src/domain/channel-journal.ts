import type { Channel } from '#domain/payment.ts';

/**
 * The channel message journal: one entry per exchange with a payment channel — a request the gateway made (create,
 * query, close, refund, refund query) with the channel's answer, or a callback the channel sent — kept for operators
 * investigating a disputed payment. Bodies are stored only after {@link redactMessage}.
 */
export type JournalOperation = 'create' | 'query' | 'close' | 'refund' | 'query_refund' | 'callback';

export interface JournalEntry {
  id: string;
  channel: Channel;
  operation: JournalOperation;
  paymentId: string;
  refundId?: string;
  /** When the exchange started. */
  at: string;
  latencyMs: number;
  /** `OK`: the channel answered and the gateway used the answer; `ERROR`: it failed (outage, refusal, bad answer). */
  outcome: 'OK' | 'ERROR';
  /** The last HTTP status of the exchange (the channel's answer to a request; the gateway's answer to a callback). */
  httpStatus?: number;
  errorCode?: string;
  errorMessage?: string;
  channelTradeNo?: string;
  channelRefundNo?: string;
  /** Redacted request (or callback) and response bodies, each at most {@link MAX_BODY_CHARS} characters. */
  request?: string;
  response?: string;
}

/** What the merchant sees of the journal on `GET /v1/payments/{id}`: the attempts, never raw bodies. */
export function journalAttemptView(entry: JournalEntry) {
  return {
    at: entry.at,
    operation: entry.operation,
    channel: entry.channel,
    refund_id: entry.refundId ?? null,
    outcome: entry.outcome,
    http_status: entry.httpStatus ?? null,
    latency_ms: entry.latencyMs,
    error_code: entry.errorCode ?? null,
  };
}

export const MAX_BODY_CHARS = 16 * 1024;

/** Fields whose value is a secret or a signature: replaced entirely. */
const SECRET = /(^|_)(sign|signature|paysign|key|secret|token|password|private|authorization|ciphertext|certificate)/i;
/** Fields that identify the payer: masked, keeping a short prefix and suffix so an operator can still compare. */
const PERSONAL =
  /^(buyer_id|buyer_logon_id|buyer_user_id|buyer_open_id|buyer_email|openid|sp_openid|sub_openid|payer|payer_client_ip|client_ip|payer_ip|mobile|phone|email|name|id_card|cert_no|bank_card|card_no)$/i;

const REDACTED = '[REDACTED]';

/** Masks a payer identifier: `2088…1234` keeps 2 + 2 characters of long values, nothing of short ones. */
export function maskValue(value: string): string {
  return value.length > 8 ? `${value.slice(0, 2)}***${value.slice(-2)}` : '***';
}

function redactValue(key: string, value: unknown): unknown {
  // Signature-like names first (`sign_type` names an algorithm, not a secret).
  if (SECRET.test(key) && !/^(sign_type|signtype)$/i.test(key)) return REDACTED;
  if (PERSONAL.test(key)) return maskDeep(value);
  return redactDeep(value);
}

function maskDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskValue(value);
  if (Array.isArray(value)) return value.map(maskDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, maskDeep(field)]));
  }
  return value;
}

function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactEmbedded(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, redactValue(key, field)]));
  }
  return value;
}

/** A string field may itself hold JSON (Alipay's `biz_content`, its `fund_bill_list`): redact inside it too. */
function redactEmbedded(text: string): string {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return text;
  try {
    return JSON.stringify(redactDeep(JSON.parse(trimmed)));
  } catch {
    return text;
  }
}

/**
 * Redacts a message exchanged with a channel: JSON (WeChat Pay, Alipay answers) or form-encoded (Alipay requests and
 * notifications) bodies are rewritten field by field — signatures and keys replaced, payer identifiers masked — and
 * anything else (an HTML error page, plain text) is kept only as its length. Then truncated to {@link MAX_BODY_CHARS}.
 */
export function redactMessage(text: string): string {
  const trimmed = text.trim();
  let redacted: string;
  if (trimmed === '' || trimmed === 'success' || trimmed === 'fail') {
    redacted = trimmed;
  } else if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      redacted = JSON.stringify(redactDeep(JSON.parse(trimmed)));
    } catch {
      redacted = `[unparsed body, ${text.length} characters]`;
    }
  } else if (/^[\w.%-]+=[^&]*(&[\w.%-]+=[^&]*)*$/.test(trimmed)) {
    const form = new URLSearchParams(trimmed);
    const out = new URLSearchParams();
    for (const [key, value] of form) out.append(key, String(redactValue(key, value)));
    redacted = decodeURIComponent(out.toString().replaceAll('+', ' '));
  } else {
    redacted = `[unparsed body, ${text.length} characters]`;
  }
  return redacted.length > MAX_BODY_CHARS ? `${redacted.slice(0, MAX_BODY_CHARS)}…[truncated]` : redacted;
}

/** Callback headers worth keeping: the channel's serial, timestamp and nonce; the signature never. */
export function redactHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (/^(content-type|wechatpay-serial|wechatpay-timestamp|wechatpay-nonce)$/i.test(name)) kept[name] = value;
    else if (/signature/i.test(name)) kept[name] = REDACTED;
  }
  return kept;
}
