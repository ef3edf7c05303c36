import { describe, expect, it } from 'vitest';
import { addressProblem, urlProblem } from '#domain/egress-policy.ts';

const cloud = { allowLoopback: false };
const local = { allowLoopback: true };

describe('egress policy for merchant-supplied URLs', () => {
  it.each([
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/',
    'https://172.16.5.4/',
    'https://192.168.1.1/',
    'https://100.64.0.1/',
    'https://127.0.0.1:9200/',
    'https://2130706433/', // 127.0.0.1 as one decimal number
    'https://0x7f.1/', // 127.0.0.1 in hex
    'https://[::1]:8443/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/', // 169.254.169.254, IPv4-mapped
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://[64:ff9b::a00:1]/', // NAT64 of 10.0.0.1
    'https://localhost:9200/',
    'https://LOCALHOST./',
    'https://api.localhost/',
    'https://metadata.google.internal/',
    'https://intranet/',
    'https://printer.local/',
    'https://user:pw@merchant.example/notify',
    'http://merchant.example/notify',
    'http://169.254.169.254/latest/',
    'ftp://merchant.example/',
    'not a url',
  ])('refuses %s on a deployed stack', (url) => {
    expect(urlProblem(url, cloud)).toBeTypeOf('string');
  });

  it.each([
    'https://merchant.example/notify',
    'https://hooks.merchant.example:8443/pay?x=1',
    'https://8.8.8.8/',
    'https://[2606:4700:4700::1111]/',
  ])('accepts %s', (url) => {
    expect(urlProblem(url, cloud)).toBeUndefined();
    expect(urlProblem(url, local)).toBeUndefined();
  });

  it('lets only the local stack reach loopback, over http or https, and nothing else private', () => {
    for (const url of ['http://127.0.0.1:3000/hook', 'http://localhost:1/', 'https://[::1]:9/']) {
      expect(urlProblem(url, local)).toBeUndefined();
      expect(urlProblem(url, cloud)).toBeTypeOf('string');
    }
    for (const url of ['http://10.0.0.1/', 'https://10.0.0.1/', 'http://merchant.example/', 'http://8.8.8.8/']) {
      expect(urlProblem(url, local)).toBeTypeOf('string');
    }
  });

  it('judges resolved addresses the same way', () => {
    expect(addressProblem('93.184.216.34', cloud)).toBeUndefined();
    expect(addressProblem('2606:4700::6810:84e5', cloud)).toBeUndefined();
    for (const address of ['10.1.2.3', '169.254.169.254', '127.0.0.1', '::1', 'fc00::7', '0.0.0.0', '224.0.0.1']) {
      expect(addressProblem(address, cloud)).toBeTypeOf('string');
    }
    expect(addressProblem('127.0.0.1', local)).toBeUndefined();
    expect(addressProblem('10.1.2.3', local)).toBeTypeOf('string');
  });
});
