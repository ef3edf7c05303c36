import { createHash } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Markup that is safe to put in a page as it is: built by {@link html}, or trusted by {@link trustedHtml}. */
export class SafeHtml {
  constructor(readonly text: string) {}
}

type Interpolation = string | number | SafeHtml | readonly Interpolation[] | false | null | undefined;

/**
 * A tagged template that escapes every interpolated value (text, numbers) and keeps {@link SafeHtml} as it is, so a
 * page built from merchant- or payer-supplied text cannot carry markup or script. `false`, `null` and `undefined`
 * render nothing; arrays render each item.
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup the gateway generated itself (e.g. a QR code's SVG): never text that came from outside. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: Interpolation): string {
  if (value === false || value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Escapes text for an HTML element or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The CSP source of a static inline `<style>` or `<script>`: its SHA-256 hash, so nothing else inline can run. */
export function cspHash(content: string): string {
  return `'sha256-${createHash('sha256').update(content, 'utf8').digest('base64')}'`;
}

/**
 * An HTML response with the headers a page shown to payers needs: a Content-Security-Policy that allows only the
 * page's own hashed inline style and script and form posts to itself, no framing, no sniffing, no referrer, no cache.
 */
export function htmlResponse(
  statusCode: number,
  page: SafeHtml,
  sources: { style: string; script?: string },
): APIGatewayProxyStructuredResultV2 {
  const csp = [
    "default-src 'none'",
    `style-src ${sources.style}`,
    `script-src ${sources.script ?? "'none'"}`,
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    },
    body: page.text,
  };
}
