import { encodeText, formatValue } from './exposition.js';

describe('text exposition', () => {
  it('writes Counter64 values past 2^53 exactly', () => {
    expect(formatValue(18446744073709551615n)).toBe('18446744073709551615');
    expect(formatValue(2n ** 53n + 1n)).toBe('9007199254740993');
  });

  it('escapes label values and help text and merges families of one name', () => {
    const text = encodeText([
      {
        name: 'x_total',
        help: 'a\nb',
        type: 'counter',
        samples: [{ labels: { ifAlias: 'q"\\\n' }, value: 1 }],
      },
      { name: 'x_total', help: 'ignored', type: 'counter', samples: [{ value: 2 }] },
    ]);
    expect(text).toBe(
      '# HELP x_total a\\nb\n# TYPE x_total counter\nx_total{ifAlias="q\\"\\\\\\n"} 1\nx_total 2\n',
    );
  });

  it('spells non-finite values as Prometheus does', () => {
    expect([NaN, Infinity, -Infinity].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf']);
  });
});
