import fc from 'fast-check';
import {
  encodeLength,
  encodeSentence,
  encodeWord,
  ProtocolError,
  readLength,
  SentenceDecoder,
} from './protocol.js';

describe('RouterOS API word lengths', () => {
  const cases: Array<[number, string]> = [
    [0x00, '00'],
    [0x7f, '7f'],
    [0x80, '8080'],
    [0x3fff, 'bfff'],
    [0x4000, 'c04000'],
    [0x1fffff, 'dfffff'],
    [0x200000, 'e0200000'],
    [0x0fffffff, 'efffffff'],
    [0x10000000, 'f010000000'],
  ];
  it.each(cases)('encodes length 0x%s exactly at the boundary', (length, hex) => {
    expect(encodeLength(length).toString('hex')).toBe(hex);
    expect(readLength(Buffer.from(hex, 'hex'), 0)).toEqual([length, hex.length / 2]);
  });

  it('round-trips any length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const bytes = encodeLength(n);
        expect(readLength(bytes, 0)).toEqual([n, bytes.length]);
      }),
    );
  });

  it('rejects reserved control bytes', () => {
    expect(() => readLength(Buffer.from([0xf8]), 0)).toThrow(ProtocolError);
  });
});

describe('sentence decoder', () => {
  it('reassembles sentences split at every possible byte boundary', () => {
    const long = 'x'.repeat(0x4000 + 3);
    const bytes = Buffer.concat([
      encodeSentence(['!re', `=comment=${long}`, '.tag=7']),
      encodeSentence(['!done', '.tag=7']),
    ]);
    for (const step of [1, 2, 3, 7, 64, 1000]) {
      const decoder = new SentenceDecoder();
      const out: string[][] = [];
      for (let i = 0; i < bytes.length; i += step) {
        for (const s of decoder.push(bytes.subarray(i, i + step)))
          out.push(s.map((w) => w.toString('latin1')));
      }
      expect(out).toEqual([
        ['!re', `=comment=${long}`, '.tag=7'],
        ['!done', '.tag=7'],
      ]);
    }
  });

  it('keeps raw non-UTF-8 bytes of a word intact', () => {
    const cp1251 = Buffer.from([0x3d, 0x63, 0x3d, 0xca, 0xeb, 0xe8]); // "=c=" + "Кли" in windows-1251
    const [sentence] = new SentenceDecoder().push(Buffer.concat([encodeWord(cp1251), Buffer.from([0])]));
    expect(sentence?.[0]?.equals(cp1251)).toBe(true);
  });
});
