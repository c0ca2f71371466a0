// A minimal raw RouterOS API client for tests: sends sentences, collects reply sentences as they
// arrive, byte for byte. Not a product client (the exporter's is); it lets tests see the wire.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { encodeSentence, SentenceDecoder } from './protocol.js';

export class RawApiClient {
  readonly replies: string[][] = [];
  private readonly decoder = new SentenceDecoder();
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const words of this.decoder.push(chunk)) this.replies.push(words.map((w) => w.toString('latin1')));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawApiClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawApiClient(socket)));
      socket.once('error', reject);
    });
  }

  send(...words: string[]): void {
    this.socket.write(encodeSentence(words));
  }

  /**
   * Waits until a reply sentence satisfies `match` (or the connection closes), up to `timeoutMs`: a reply
   * that comes at once on an idle machine can take seconds at a load of 20 (CI runs four test files on two cores).
   */
  async until(match: (sentence: string[]) => boolean, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.replies.find(match);
      if (found) return found;
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a reply');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a command and returns every reply sentence up to and including its `!done` (by tag). */
  async command(words: string[], tag: string): Promise<string[][]> {
    this.send(...words, `.tag=${tag}`);
    await this.until((s) => (s[0] === '!done' && s.includes(`.tag=${tag}`)) || s[0] === '!fatal');
    return this.replies.filter((s) => s.includes(`.tag=${tag}`));
  }

  /** Logs in as 6.43+ does; answers the MD5 challenge an older router sends back instead. */
  async login(username: string, password: string): Promise<void> {
    const replies = await this.command(['/login', `=name=${username}`, `=password=${password}`], 'login');
    const first = replies[0] ?? [];
    if (first[0] !== '!done') throw new Error(`login failed: ${JSON.stringify(replies)}`);
    const challenge = attributes(first).ret;
    if (challenge === undefined) return;
    const digest = createHash('md5')
      .update(
        Buffer.concat([Buffer.from([0]), Buffer.from(password, 'latin1'), Buffer.from(challenge, 'hex')]),
      )
      .digest('hex');
    const second = await this.command(['/login', `=name=${username}`, `=response=00${digest}`], 'login2');
    if (second[0]?.[0] !== '!done') throw new Error(`login failed: ${JSON.stringify(second)}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `=name=value` words of a sentence as an object. */
export function attributes(sentence: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of sentence) {
    if (!w.startsWith('=')) continue;
    const eq = w.indexOf('=', 1);
    out[w.slice(1, eq)] = w.slice(eq + 1);
  }
  return out;
}
