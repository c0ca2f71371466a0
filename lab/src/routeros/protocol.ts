// The RouterOS API wire format: a sentence is a sequence of length-prefixed words ended by a
// zero-length word. Lengths use a variable-size prefix (MikroTik "API" manual, "API words"):
//   0x00-0x7F        1 byte   len
//   0x80-0x3FFF      2 bytes  len | 0x8000
//   0x4000-0x1FFFFF  3 bytes  len | 0xC00000
//   0x200000-0xFFFFFFF 4 bytes len | 0xE0000000
//   larger           5 bytes  0xF0 then len as 4 bytes
// Control bytes 0xF8-0xFF are reserved. Words are bytes, not text: RouterOS stores and sends names and
// comments as raw bytes (often a Windows code page), so this module keeps every word as a Buffer.

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new ProtocolError(`word length ${length} cannot be encoded`);
  }
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) {
    const v = length | 0x8000;
    return Buffer.from([(v >> 8) & 0xff, v & 0xff]);
  }
  if (length < 0x200000) {
    const v = length | 0xc00000;
    return Buffer.from([(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  }
  if (length < 0x10000000) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE((length | 0xe0000000) >>> 0);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = 0xf0;
  b.writeUInt32BE(length, 1);
  return b;
}

/** A word from text (latin1: one byte per char, so binary strings round-trip) or raw bytes. */
export function encodeWord(word: string | Buffer): Buffer {
  const bytes = typeof word === 'string' ? Buffer.from(word, 'latin1') : word;
  return Buffer.concat([encodeLength(bytes.length), bytes]);
}

export function encodeSentence(words: Array<string | Buffer>): Buffer {
  return Buffer.concat([...words.map(encodeWord), Buffer.from([0])]);
}

/**
 * Streaming decoder: feed it TCP chunks of any size, get complete sentences (arrays of words as Buffers).
 * Throws ProtocolError on a reserved control byte or a word longer than `maxWordLength`.
 */
export class SentenceDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private words: Buffer[] = [];

  constructor(private readonly maxWordLength = 64 * 1024 * 1024) {}

  push(chunk: Buffer): Buffer[][] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const sentences: Buffer[][] = [];
    let offset = 0;
    for (;;) {
      const header = readLength(this.buffer, offset);
      if (header === undefined) break;
      const [length, headerSize] = header;
      if (length > this.maxWordLength) throw new ProtocolError(`word of ${length} bytes exceeds the limit`);
      if (this.buffer.length < offset + headerSize + length) break;
      const start = offset + headerSize;
      offset = start + length;
      if (length === 0) {
        sentences.push(this.words);
        this.words = [];
      } else {
        this.words.push(Buffer.from(this.buffer.subarray(start, start + length)));
      }
    }
    this.buffer = this.buffer.subarray(offset);
    return sentences;
  }
}

/** Reads a length prefix at `offset`: [length, prefix size], or undefined when more bytes are needed. */
export function readLength(buf: Buffer, offset: number): [number, number] | undefined {
  if (offset >= buf.length) return undefined;
  const b0 = buf[offset] as number;
  if ((b0 & 0x80) === 0x00) return [b0, 1];
  if ((b0 & 0xc0) === 0x80) {
    if (buf.length < offset + 2) return undefined;
    return [((b0 & 0x3f) << 8) | (buf[offset + 1] as number), 2];
  }
  if ((b0 & 0xe0) === 0xc0) {
    if (buf.length < offset + 3) return undefined;
    return [((b0 & 0x1f) << 16) | ((buf[offset + 1] as number) << 8) | (buf[offset + 2] as number), 3];
  }
  if ((b0 & 0xf0) === 0xe0) {
    if (buf.length < offset + 4) return undefined;
    return [(buf.readUInt32BE(offset) & 0x0fffffff) >>> 0, 4];
  }
  if (b0 === 0xf0) {
    if (buf.length < offset + 5) return undefined;
    return [buf.readUInt32BE(offset + 1), 5];
  }
  throw new ProtocolError(`reserved control byte 0x${b0.toString(16)} in word length`);
}
