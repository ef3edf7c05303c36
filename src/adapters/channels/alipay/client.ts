import type { KeyObject } from 'node:crypto';
import type { AlipayConfig } from '#domain/channel-config.ts';
import type * as z from '#shared/zod.ts';
import { AlipayResponseInvalidError, AlipayUnavailableError } from './errors.ts';
import { rawMember, responseKey } from './response-text.ts';
import { loadPrivateKey, loadPublicKey, rsa2Verify, signRequest, verifyNotification } from './signing.ts';
import { type AlipayErrorBody, commonResponse, toShanghaiTime } from './transformers.ts';

/** Tuning and test seams of {@link AlipayClient}. */
export interface AlipayClientOptions {
  /** Per-call budget for connect + answer; default 5000 ms. */
  timeoutMs?: number;
  /** Clock for the `timestamp` parameter. */
  now?: () => Date;
  fetch?: typeof fetch;
}

/** A verified answer: the method's success body, or Alipay's error (`code` ≠ `10000`) for the caller to map. */
export type AlipayReply<T> = { ok: true; body: T } | { ok: false; error: AlipayErrorBody };

/** Parameters that ride in the gateway URL's query, as the official SDKs send them; the rest goes in the form body. */
const URL_PARAMS = new Set(['app_id', 'method', 'format', 'charset', 'sign_type', 'sign', 'timestamp', 'version']);

/**
 * A small client of Alipay's open-platform gateway (`gateway.do`, RSA2): signs each request with the app key,
 * POSTs it as a UTF-8 form, and verifies the response `sign` with Alipay's public key before reading any field.
 */
export class AlipayClient {
  private readonly appKey: KeyObject;
  private readonly alipayKey: KeyObject;
  private readonly retiredKey?: { key: KeyObject; validUntil: number };
  private readonly timeoutMs: number;
  private readonly now: () => Date;
  private readonly fetch: typeof fetch;

  /**
   * @param config the Alipay account; its keys are parsed once here
   * @param options timeouts and test seams
   */
  constructor(
    readonly config: AlipayConfig,
    options: AlipayClientOptions = {},
  ) {
    this.appKey = loadPrivateKey(config.appPrivateKeyPem);
    this.alipayKey = loadPublicKey(config.alipayPublicKeyPem);
    const retired = config.retiredAlipayPublicKey;
    if (retired) this.retiredKey = { key: loadPublicKey(retired.pem), validUntil: Date.parse(retired.validUntil) };
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.now = options.now ?? (() => new Date());
    this.fetch = options.fetch ?? fetch;
  }

  /** The common parameters + `biz_content` + extras (`notify_url`, `return_url`), signed. */
  signedParams(
    method: string,
    bizContent: Record<string, unknown>,
    extra: Record<string, string | undefined> = {},
  ): Record<string, string> {
    const params: Record<string, string> = {
      app_id: this.config.appId,
      method,
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: toShanghaiTime(this.now()),
      version: '1.0',
      biz_content: JSON.stringify(bizContent),
    };
    for (const [key, value] of Object.entries(extra)) if (value) params[key] = value;
    params.sign = signRequest(params, this.appKey);
    return params;
  }

  /** A signed GET URL to the gateway, for the page/WAP cashier methods that the buyer's browser opens. */
  pageUrl(method: string, bizContent: Record<string, unknown>, extra: Record<string, string | undefined>): string {
    const url = new URL(this.config.gatewayUrl);
    for (const [key, value] of Object.entries(this.signedParams(method, bizContent, extra))) {
      url.searchParams.set(key, value);
    }
    return url.toString();
  }

  /**
   * Calls `method` and returns its verified answer. Throws {@link AlipayUnavailableError} on a network error,
   * timeout, non-200 status or "system busy", and {@link AlipayResponseInvalidError} on an unsigned, forged or
   * malformed body.
   */
  async call<S extends z.ZodMiniType>(
    method: string,
    bizContent: Record<string, unknown>,
    schema: S,
    extra: Record<string, string | undefined> = {},
  ): Promise<AlipayReply<z.output<S>>> {
    const url = new URL(this.config.gatewayUrl);
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(this.signedParams(method, bizContent, extra))) {
      if (URL_PARAMS.has(key)) url.searchParams.set(key, value);
      else form.set(key, value);
    }
    const raw = await this.post(url, form, method);
    const member = this.verifiedMember(raw, method);
    const common = commonResponse.safeParse(member);
    if (!common.success) throw new AlipayResponseInvalidError(`${method}: no code in the response`);
    const { code, sub_code: subCode } = common.data;
    if (code === '10000') {
      const body = schema.safeParse(member);
      if (!body.success) throw new AlipayResponseInvalidError(`${method}: unexpected success body`);
      return { ok: true, body: body.data };
    }
    if (code === '20000' || subCode === 'ACQ.SYSTEM_ERROR') {
      throw new AlipayUnavailableError('system_error', `${method} answered ${code} ${subCode ?? ''}`.trim());
    }
    return { ok: false, error: common.data };
  }

  private async post(url: URL, form: URLSearchParams, method: string): Promise<string> {
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw new AlipayUnavailableError(
        timedOut ? 'timeout' : 'network',
        timedOut ? `${method} timed out after ${this.timeoutMs} ms` : `${method} failed: ${String(error)}`,
        undefined,
        { cause: error },
      );
    }
    if (response.status !== 200) {
      throw new AlipayUnavailableError('http_status', `${method} answered HTTP ${response.status}`, response.status);
    }
    return text;
  }

  /** Whether a decoded async-notification form carries Alipay's valid `sign` (see `signing.ts`). */
  verifyNotification(form: Readonly<Record<string, string>>): boolean {
    return this.verifiedBy((key) => verifyNotification(form, key));
  }

  /** Alipay's current key, or during a rotation's grace period the retired one, verifies. */
  private verifiedBy(check: (key: KeyObject) => boolean): boolean {
    if (check(this.alipayKey)) return true;
    const retired = this.retiredKey;
    return retired !== undefined && this.now().getTime() < retired.validUntil && check(retired.key);
  }

  /** The `<method>_response` (or `error_response`) member, parsed only after its raw text verified. */
  private verifiedMember(raw: string, method: string): unknown {
    let envelope: unknown;
    try {
      envelope = JSON.parse(raw);
    } catch {
      throw new AlipayResponseInvalidError(`${method}: body is not JSON`);
    }
    const signature =
      typeof envelope === 'object' && envelope !== null && 'sign' in envelope ? envelope.sign : undefined;
    const content = rawMember(raw, responseKey(method)) ?? rawMember(raw, 'error_response');
    if (content === undefined) throw new AlipayResponseInvalidError(`${method}: no ${responseKey(method)} member`);
    if (typeof signature !== 'string' || !this.verifiedBy((key) => rsa2Verify(content, signature, key))) {
      throw new AlipayResponseInvalidError(`${method}: response signature does not verify`);
    }
    return JSON.parse(content);
  }
}
