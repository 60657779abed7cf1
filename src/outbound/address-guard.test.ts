import { describe, expect, it } from 'vitest';
import { refusalOf } from './address-guard.js';

describe('refusalOf', () => {
  it('lets public unicast addresses through', () => {
    for (const ip of ['1.1.1.1', '8.8.8.8', '140.82.112.3', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e']) expect(refusalOf(ip), ip).toBeUndefined();
  });

  it('refuses loopback, private, link-local, shared, multicast and reserved addresses, naming the kind', () => {
    expect(refusalOf('127.0.0.1')).toBe('127.0.0.1 is a loopback address');
    expect(refusalOf('127.8.9.10')).toContain('loopback');
    expect(refusalOf('10.1.2.3')).toContain('private');
    expect(refusalOf('172.16.0.1')).toContain('private');
    expect(refusalOf('172.31.255.255')).toContain('private');
    expect(refusalOf('192.168.1.1')).toContain('private');
    expect(refusalOf('169.254.169.254')).toContain('link-local');
    for (const ip of ['0.0.0.0', '100.64.0.1', '224.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.2.5']) expect(refusalOf(ip), ip).toBeDefined();
    expect(refusalOf('172.32.0.1')).toBeUndefined();
    expect(refusalOf('::1')).toContain('loopback');
    expect(refusalOf('::')).toBeDefined();
    expect(refusalOf('fe80::1')).toContain('link-local');
    expect(refusalOf('fd00::1')).toContain('unique local');
    expect(refusalOf('ff02::1')).toBeDefined();
  });

  it('judges IPv4 carried in IPv6 by the IPv4 address', () => {
    expect(refusalOf('::ffff:127.0.0.1')).toContain('loopback');
    expect(refusalOf('::ffff:7f00:1')).toContain('loopback');
    expect(refusalOf('::ffff:a9fe:a9fe')).toContain('link-local');
    expect(refusalOf('::ffff:8.8.8.8')).toBeUndefined();
    expect(refusalOf('64:ff9b::7f00:1')).toBeDefined();
    expect(refusalOf('2002:7f00:1::')).toBeDefined();
  });

  it('says so for what is not an address', () => {
    expect(refusalOf('example.com')).toContain('not an IP address');
  });
});
