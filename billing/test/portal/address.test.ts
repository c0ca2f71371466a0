// The address the isolation page identifies a subscriber by: the TCP peer, and X-Forwarded-For only
// when the peer is a configured trusted proxy.
import { clientAddress, normaliseAddress, TrustedProxies } from '../../src/portal/address.js';

const none = new TrustedProxies([]);
const proxies = new TrustedProxies(['127.0.0.1', '10.255.0.0/16', 'fd00::/8']);

describe('the subscriber address', () => {
  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress('10.20.0.11', '10.20.0.99', none)).toBe('10.20.0.11');
    expect(clientAddress('127.0.0.1', '10.20.0.99', none)).toBe('127.0.0.1');
  });

  it('reads X-Forwarded-For from the right past trusted proxies', () => {
    expect(clientAddress('127.0.0.1', '10.20.0.11', proxies)).toBe('10.20.0.11');
    expect(clientAddress('127.0.0.1', '10.20.0.11, 10.255.3.4', proxies)).toBe('10.20.0.11');
    expect(clientAddress('127.0.0.1', ['10.20.0.11', '10.255.3.4'], proxies)).toBe('10.20.0.11');
  });

  it('does not believe what a client wrote to the left of the first untrusted hop', () => {
    // A subscriber at 10.20.0.12 sends "X-Forwarded-For: 10.20.0.11" to look like another one.
    expect(clientAddress('127.0.0.1', '10.20.0.11, 10.20.0.12', proxies)).toBe('10.20.0.12');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientAddress('10.20.0.12', '10.20.0.11', proxies)).toBe('10.20.0.12');
  });

  it('is the proxy itself when a trusted proxy sends no header', () => {
    expect(clientAddress('127.0.0.1', undefined, proxies)).toBe('127.0.0.1');
  });

  it('is unknown when the forwarded hop is not an address', () => {
    expect(clientAddress('127.0.0.1', 'unknown', proxies)).toBeUndefined();
    expect(clientAddress(undefined, '10.20.0.11', proxies)).toBeUndefined();
  });

  it('treats an IPv4-mapped IPv6 peer as the IPv4 address', () => {
    expect(normaliseAddress('::ffff:10.20.0.11')).toBe('10.20.0.11');
    expect(clientAddress('::ffff:127.0.0.1', '10.20.0.11', proxies)).toBe('10.20.0.11');
    expect(clientAddress('fd00::1', '2001:db8::5', proxies)).toBe('2001:db8::5');
  });

  it('refuses a trusted proxy entry that is not an address or range, naming it', () => {
    expect(() => new TrustedProxies(['proxy.local'])).toThrow(
      'trusted proxy "proxy.local": not an IP address',
    );
    expect(() => new TrustedProxies(['10.0.0.0/33'])).toThrow('prefix length must be 0-32');
  });
});
