import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { WechatPayConfig } from '#domain/channel-config.ts';
import type * as z from '#shared/zod.ts';
import { WechatPayBusinessError, WechatPayResponseInvalidError, WechatPayUnavailableError } from './errors.ts';
import { buildAuthorization, newNonce, PlatformKeyring, verifyWechatpaySignature } from './signing.ts';
import { errorBodySchema } from './transformers.ts';

/** Default time WeChat Pay has to answer one call, body included. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/** Tunables of the client; all optional. */
export interface WechatPayClientOptions {
  /** Per-call deadline in milliseconds (default {@link DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** The clock used for request timestamps and the answer's timestamp window. */
  clock?: () => Date;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * A small WeChat Pay API v3 client: signs every request with the merchant key, sends it with a deadline, and verifies
 * every answer's `Wechatpay-*` signature before reading it. It throws {@link WechatPayUnavailableError} for network
 * errors, timeouts and 5xx/429 answers, {@link WechatPayResponseInvalidError} for answers that do not verify, and
 * {@link WechatPayBusinessError} for verified 4xx answers.
 */
export class WechatPayClient {
  /** The merchant API private key, also used to sign JSAPI pay parameters. */
  readonly merchantKey: KeyObject;
  /** WeChat Pay's verification keys, also used for callbacks. */
  readonly keyring: PlatformKeyring;
  /** The clock of request timestamps and of the answers' timestamp window. */
  readonly clock: () => Date;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(
    private readonly config: WechatPayConfig,
    options: WechatPayClientOptions = {},
  ) {
    this.merchantKey = createPrivateKey(config.merchantPrivateKeyPem);
    this.keyring = new PlatformKeyring(config.platformKeys, config.retiredPlatformKeys);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.clock = options.clock ?? (() => new Date());
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Calls WeChat Pay and returns the verified answer's JSON (`undefined` for an empty 2xx such as close's 204).
   * @param pathAndQuery e.g. `/v3/pay/transactions/out-trade-no/abc?mchid=1900000109`
   * @param payload JSON body of a POST
   */
  async request(method: 'GET' | 'POST', pathAndQuery: string, payload?: unknown): Promise<unknown> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const { status, headers, text } = await this.signedExchange(method, this.urlOf(pathAndQuery), body);
    return this.verifiedJson(status, headers, text.toString('utf8'));
  }

  /**
   * Downloads a file WeChat Pay handed out a `download_url` for (the bill download API), with the request signed like
   * any other. WeChat Pay does not sign the file itself — its integrity is the caller's to check against the hash
   * that came in the signed answer — but an error answer is verified like any other and thrown as
   * {@link request} does. The URL must be on the configured API origin.
   * @param maxBytes a longer file is refused ({@link WechatPayResponseInvalidError})
   */
  async download(downloadUrl: string, maxBytes: number): Promise<Buffer> {
    const url = URL.canParse(downloadUrl) ? new URL(downloadUrl) : undefined;
    if (url?.origin !== this.urlOf('/').origin) {
      throw new WechatPayResponseInvalidError('download_url is not on the WeChat Pay API origin');
    }
    const { status, headers, text } = await this.signedExchange('GET', url, '', maxBytes);
    if (status >= 200 && status <= 299) return text;
    this.verifiedJson(status, headers, text.toString('utf8'));
    throw new WechatPayResponseInvalidError(`download answered HTTP ${status}`);
  }

  private urlOf(pathAndQuery: string): URL {
    return new URL(`${this.config.baseUrl.replace(/\/+$/, '')}${pathAndQuery}`);
  }

  /** Sends one request signed with the merchant key (`Authorization`); the answer's bytes, unverified. */
  private signedExchange(method: 'GET' | 'POST', url: URL, body: string, maxBytes?: number) {
    const authorization = buildAuthorization(
      { mchId: this.config.mchId, serialNo: this.config.merchantSerialNo, privateKey: this.merchantKey },
      {
        method,
        pathAndQuery: `${url.pathname}${url.search}`,
        timestamp: String(Math.floor(this.clock().getTime() / 1000)),
        nonce: newNonce(),
        body,
      },
    );
    return this.send(
      url,
      {
        method,
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'user-agent': 'pay-gateway',
          authorization,
        },
        body: method === 'GET' ? undefined : body,
      },
      maxBytes,
    );
  }

  /** Verifies an answer's `Wechatpay-*` signature, then returns its JSON or throws its business error. */
  private verifiedJson(status: number, headers: Record<string, string>, text: string): unknown {
    if (status >= 500 || status === 429) throw new WechatPayUnavailableError('http_status', `HTTP ${status}`, status);
    const check = verifyWechatpaySignature(this.keyring, headers, text, this.clock());
    if (!check.ok) throw new WechatPayResponseInvalidError(check.reason);
    const json = text === '' ? undefined : parseJson(text);
    if (status < 200 || status > 299) {
      const error = errorBodySchema.safeParse(json);
      throw error.success
        ? new WechatPayBusinessError(status, error.data.code, error.data.message)
        : new WechatPayBusinessError(status, 'UNKNOWN', `HTTP ${status}`);
    }
    return json;
  }

  private async send(
    url: URL,
    init: RequestInit,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<{ status: number; headers: Record<string, string>; text: Buffer }> {
    let response: Response;
    let bytes: Buffer;
    try {
      // One deadline for the whole exchange: connecting, the headers and reading the body.
      response = await this.fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      bytes = await readAtMost(response, maxBytes);
    } catch (error) {
      if (error instanceof WechatPayResponseInvalidError) throw error;
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw timedOut
        ? new WechatPayUnavailableError('timeout', `no answer within ${this.timeoutMs} ms`, undefined, { cause: error })
        : new WechatPayUnavailableError('network', 'network error', undefined, { cause: error });
    }
    return { status: response.status, headers: Object.fromEntries(response.headers), text: bytes };
  }
}

/** The answer's body, refused once it passes `maxBytes`. */
async function readAtMost(response: Response, maxBytes: number): Promise<Buffer> {
  if (!Number.isFinite(maxBytes) || !response.body) return Buffer.from(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let read = 0;
  for await (const chunk of response.body) {
    read += chunk.byteLength;
    // Leaving the loop cancels the stream (and drops the connection).
    if (read > maxBytes) throw new WechatPayResponseInvalidError(`the file is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new WechatPayResponseInvalidError('answer is not JSON');
  }
}

/** Parses a verified answer with its wire schema; a mismatch is {@link WechatPayResponseInvalidError}. */
export function decodeAnswer<S extends z.ZodMiniType>(schema: S, answer: unknown): z.output<S> {
  const parsed = schema.safeParse(answer);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WechatPayResponseInvalidError(`unexpected answer shape at ${issue?.path.join('.') ?? '?'}`);
  }
  return parsed.data;
}
