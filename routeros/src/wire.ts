import { TextDecoder } from 'node:util';
// RouterOS API framing for the client side: length-prefixed words, sentences ended by an empty word.
// (MikroTik API manual, "API words".) Words stay bytes until the client decides how to read them.

export class RouterOsProtocolError extends Error {
  readonly reason = 'protocol';
  constructor(message: string) {
    super(message);
    this.name = 'RouterOsProtocolError';
  }
}

export function encodeWordLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x4000) return Buffer.from([0x80 | (n >> 8), n & 0xff]);
  if (n < 0x200000) return Buffer.from([0xc0 | (n >> 16), (n >> 8) & 0xff, n & 0xff]);
  if (n < 0x10000000) return Buffer.from([0xe0 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.from([0xf0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** Encodes a command sentence; text words are sent as UTF-8 (RouterOS stores the bytes it is given). */
export function encodeCommand(words: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const word of words) {
    const bytes = Buffer.from(word, 'utf8');
    parts.push(encodeWordLength(bytes.length), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Incremental reply reader. `push` returns complete sentences; malformed input throws RouterOsProtocolError. */
export class ReplyReader {
  private pending: Buffer = Buffer.alloc(0);
  private sentence: Buffer[] = [];

  constructor(private readonly maxWord = 16 * 1024 * 1024) {}

  push(chunk: Buffer): Buffer[][] {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[][] = [];
    let pos = 0;
    while (pos < buf.length) {
      const first = buf[pos] as number;
      let size: number;
      let len: number;
      if (first < 0x80) {
        size = 1;
        len = first;
      } else if (first < 0xc0) {
        size = 2;
        if (pos + size > buf.length) break;
        len = ((first & 0x3f) << 8) | (buf[pos + 1] as number);
      } else if (first < 0xe0) {
        size = 3;
        if (pos + size > buf.length) break;
        len = ((first & 0x1f) << 16) | ((buf[pos + 1] as number) << 8) | (buf[pos + 2] as number);
      } else if (first < 0xf0) {
        size = 4;
        if (pos + size > buf.length) break;
        len = buf.readUInt32BE(pos) & 0x0fffffff;
      } else if (first === 0xf0) {
        size = 5;
        if (pos + size > buf.length) break;
        len = buf.readUInt32BE(pos + 1);
      } else {
        throw new RouterOsProtocolError(`invalid word length prefix 0x${first.toString(16)}`);
      }
      if (len > this.maxWord)
        throw new RouterOsProtocolError(`word of ${len} bytes exceeds the ${this.maxWord}-byte limit`);
      if (pos + size + len > buf.length) break;
      if (len === 0) {
        out.push(this.sentence);
        this.sentence = [];
      } else {
        this.sentence.push(buf.subarray(pos + size, pos + size + len));
      }
      pos += size + len;
    }
    // Keep only the unread tail; copy so completed words do not pin a large chunk... they are sliced views
    // of `buf`, which is fine: they are consumed before the next push.
    this.pending = pos < buf.length ? Buffer.from(buf.subarray(pos)) : Buffer.alloc(0);
    return out;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const fallbacks = new Map<string, TextDecoder>();

/**
 * RouterOS sends names and comments as the raw bytes it stored. Read UTF-8 where the bytes are valid
 * UTF-8, otherwise a single-byte code page (windows-1252 by default; windows-1251 for Cyrillic sites…),
 * as Winbox-era data usually is.
 */
export function decodeRouterOsText(bytes: Uint8Array, fallback = 'windows-1252'): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    let decoder = fallbacks.get(fallback);
    if (!decoder) {
      decoder = new TextDecoder(fallback);
      fallbacks.set(fallback, decoder);
    }
    return decoder.decode(bytes);
  }
}
