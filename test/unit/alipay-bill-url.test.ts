import { describe, expect, it } from 'vitest';
import { fileUrl } from '#adapters/channels/alipay/bill-source.ts';
import { AlipayResponseInvalidError } from '#adapters/channels/alipay/errors.ts';

const GATEWAY = 'https://openapi.alipay.com/gateway.do';

describe('Alipay bill_download_url', () => {
  it('is fetched over https on an Alipay host, whatever scheme Alipay handed out', () => {
    const link = 'http://dwbillcenter.alipay.com/downloadBillFile.resource?bizType=trade&fileType=csv.zip&token=a%2Fb';
    expect(fileUrl(link, GATEWAY)).toBe(
      'https://dwbillcenter.alipay.com/downloadBillFile.resource?bizType=trade&fileType=csv.zip&token=a%2Fb',
    );
    expect(
      fileUrl('http://dwbillcenter.alipaydev.com:80/x', 'https://openapi-sandbox.dl.alipaydev.com/gateway.do'),
    ).toBe('https://dwbillcenter.alipaydev.com/x');
  });

  it('keeps the configured gateway’s scheme and port on the gateway’s own host name (a local server)', () => {
    expect(fileUrl('http://127.0.0.1:4100/downloadBillFile.resource?token=t', 'http://127.0.0.1:4200/gateway.do')).toBe(
      'http://127.0.0.1:4100/downloadBillFile.resource?token=t',
    );
  });

  it.each([
    'https://dwbillcenter.alipay.com.evil.example/bill.zip',
    'https://evilalipay.com/bill.zip',
    'http://169.254.169.254/latest/meta-data/',
    'not a url',
  ])('refuses %s', (link) => {
    expect(() => fileUrl(link, GATEWAY)).toThrow(AlipayResponseInvalidError);
  });
});
