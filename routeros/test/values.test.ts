import fc from 'fast-check';
import {
  parseBool,
  parseCounter,
  parseDuration,
  parseLinkSpeed,
  parseNumber,
  parsePair,
  parseRate,
} from '../src/values.js';

describe('RouterOS value parsers', () => {
  it.each([
    ['1w2d3h4m5s', 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5],
    ['59s', 59],
    ['0s', 0],
    ['3h', 10800],
    ['350ms', 0.35],
    ['1d02:03:04', 86400 + 7384],
    ['00:00:10', 10],
  ])('reads duration %s', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 6);
  });

  it('rejects what is not a duration', () => {
    for (const bad of ['', '5', 'abc', '1x', '1h junk', undefined])
      expect(parseDuration(bad)).toBeUndefined();
  });

  it('reads booleans in both spellings', () => {
    expect([
      parseBool('true'),
      parseBool('yes'),
      parseBool('false'),
      parseBool('no'),
      parseBool('maybe'),
    ]).toEqual([1, 1, 0, 0, undefined]);
  });

  it('reads rates and rx/tx pairs', () => {
    expect(parseRate('10M')).toBe(10_000_000);
    expect(parseRate('512k')).toBe(512_000);
    expect(parseRate('1.5G')).toBe(1_500_000_000);
    expect(parseRate('0')).toBe(0);
    expect(parseRate('fast')).toBeUndefined();
    expect(parsePair('10M/20M', parseRate)).toEqual([10_000_000, 20_000_000]);
    expect(parsePair('123/456', parseCounter)).toEqual([123n, 456n]);
    expect(parsePair('123', parseCounter)).toBeUndefined();
  });

  it('reads counters past 2^53 exactly', () => {
    expect(parseCounter('9007199254740993')).toBe(9007199254740993n);
    expect(parseCounter('18446744073709551615')).toBe(18446744073709551615n);
    expect(parseCounter('-1')).toBeUndefined();
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n }), (n) => parseCounter(n.toString()) === n));
  });

  it('reads numbers and link speeds', () => {
    expect(parseNumber('24.1')).toBe(24.1);
    expect(parseNumber('n/a')).toBeUndefined();
    expect(parseLinkSpeed('10Gbps')).toBe(10e9);
    expect(parseLinkSpeed('2.5Gbps')).toBe(2.5e9);
    expect(parseLinkSpeed('auto')).toBeUndefined();
    // RouterOS 7.12+ prints link modes instead.
    expect(
      [
        '10G-baseSR-LR',
        '1G-baseT-full',
        '2.5G-baseX',
        '100M-baseT-half',
        '25G-baseCR',
        '40G-baseSR4-LR4',
      ].map(parseLinkSpeed),
    ).toEqual([10e9, 1e9, 2.5e9, 100e6, 25e9, 40e9]);
    expect(parseLinkSpeed('10G-')).toBeUndefined();
  });
});
