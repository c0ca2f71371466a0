import fc from 'fast-check';
import {
  decodeRouterOsText,
  encodeCommand,
  encodeWordLength,
  ReplyReader,
  RouterOsProtocolError,
} from '../src/wire.js';

describe('RouterOS reply reader', () => {
  it('never throws anything but RouterOsProtocolError on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const reader = new ReplyReader(1 << 16);
        try {
          for (const c of chunks) reader.push(Buffer.from(c));
        } catch (err) {
          expect(err).toBeInstanceOf(RouterOsProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads sentences split anywhere, with every length encoding', () => {
    const words = [
      '!re',
      '=a=' + 'x'.repeat(0x7f),
      '=b=' + 'y'.repeat(0x3fff),
      '=c=' + 'z'.repeat(0x4000),
      '.tag=1',
    ];
    const bytes = Buffer.concat([encodeCommand(words), encodeCommand(['!done', '.tag=1'])]);
    const reader = new ReplyReader();
    const out: string[][] = [];
    for (let i = 0; i < bytes.length; i += 997)
      out.push(...reader.push(bytes.subarray(i, i + 997)).map((s) => s.map((w) => w.toString())));
    expect(out).toEqual([words, ['!done', '.tag=1']]);
  });

  it('encodes lengths at each boundary', () => {
    expect(
      [0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff, 0x10000000].map((n) =>
        encodeWordLength(n).toString('hex'),
      ),
    ).toEqual(['7f', '8080', 'bfff', 'c04000', 'dfffff', 'e0200000', 'efffffff', 'f010000000']);
  });

  it('rejects a word longer than the limit instead of buffering it', () => {
    expect(() => new ReplyReader(100).push(Buffer.from([0x80, 0xff]))).toThrow(RouterOsProtocolError);
  });
});

describe('RouterOS text decoding', () => {
  it('reads valid UTF-8 as UTF-8 and anything else in the fallback code page', () => {
    expect(decodeRouterOsText(Buffer.from('Jalan Ketapang — Ромашка', 'utf8'))).toBe(
      'Jalan Ketapang — Ромашка',
    );
    expect(decodeRouterOsText(Buffer.from([0xca, 0xeb, 0xe8, 0xe5, 0xed, 0xf2]), 'windows-1251')).toBe(
      'Клиент',
    );
    expect(decodeRouterOsText(Buffer.from([0x43, 0x61, 0x66, 0xe9]))).toBe('Café');
    expect(decodeRouterOsText(Buffer.from('plain'))).toBe('plain');
  });
});
