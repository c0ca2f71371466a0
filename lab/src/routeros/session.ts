// One API connection to a simulated router: login (6.43+ plain, or the pre-6.43 MD5 challenge),
// command dispatch with `.tag`, `=.proplist=`, queries, `=count-only=`, `listen` + `/cancel`, `/quit`.
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { encodeSentence, ProtocolError, SentenceDecoder } from './protocol.js';
import { KNOWN_PREFIXES, MENUS, SINGLETONS, Trap, type Args, type Menu } from './menus.js';
import type { RouterModel, Row } from './model.js';

export interface SessionBehaviour {
  /** Accept bytes but never answer (a hung router). */
  silent: boolean;
  /** Write half of the next reply, then close the connection. */
  closeMidReply: boolean;
  /** Menus whose commands are answered with `!trap` and this message (e.g. a missing user policy). */
  refusedMenus?: Map<string, string>;
}

interface Command {
  path: string;
  attrs: Args;
  queries: string[];
  tag: string | undefined;
}

function parseCommand(words: Buffer[]): Command {
  const [first, ...rest] = words.map((w) => w.toString('latin1'));
  const attrs: Args = new Map();
  const queries: string[] = [];
  let tag: string | undefined;
  for (const word of rest) {
    if (word.startsWith('=')) {
      const eq = word.indexOf('=', 1);
      if (eq < 0) attrs.set(word.slice(1), '');
      else attrs.set(word.slice(1, eq), word.slice(eq + 1));
    } else if (word.startsWith('?')) queries.push(word.slice(1));
    else if (word.startsWith('.tag=')) tag = word.slice(5);
  }
  return { path: first ?? '', attrs, queries, tag };
}

/** Evaluates print query words (RouterOS manual "API", "Queries") against one row. */
export function matchesQuery(row: Row, queries: string[]): boolean {
  if (queries.length === 0) return true;
  const stack: boolean[] = [];
  const compare = (a: string | undefined, b: string): number | undefined => {
    if (a === undefined) return undefined;
    const x = Number(a);
    const y = Number(b);
    if (a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  for (const q of queries) {
    if (q.startsWith('#')) {
      for (const op of q.slice(1)) {
        if (op === '!') stack.push(!stack.pop());
        else if (op === '&' || op === '|') {
          const b = stack.pop() ?? false;
          const a = stack.pop() ?? false;
          stack.push(op === '&' ? a && b : a || b);
        } else if (op === '.') {
          // no-op separator
        } else if (/\d/.test(op)) {
          const n = Number(op);
          stack.push(stack[stack.length - 1 - n] ?? false);
        }
      }
      continue;
    }
    if (q.startsWith('-')) {
      stack.push(!(q.slice(1) in row));
      continue;
    }
    if (q.startsWith('>') || q.startsWith('<')) {
      const eq = q.indexOf('=');
      const name = q.slice(1, eq < 0 ? undefined : eq);
      const c = compare(row[name], eq < 0 ? '' : q.slice(eq + 1));
      stack.push(c !== undefined && (q[0] === '>' ? c > 0 : c < 0));
      continue;
    }
    const eq = q.indexOf('=');
    if (eq < 0) stack.push(q in row);
    else stack.push(row[q.slice(0, eq)] === q.slice(eq + 1));
  }
  return stack.every(Boolean);
}

export class ApiSession {
  private readonly decoder = new SentenceDecoder();
  private loggedIn = false;
  private challenge: Buffer | undefined;
  private readonly running = new Map<string, () => void>();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly router: RouterModel,
    private readonly behaviour: SessionBehaviour,
    private readonly onClose: () => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private receive(chunk: Buffer): void {
    if (this.behaviour.silent) return;
    let sentences: Buffer[][];
    try {
      sentences = this.decoder.push(chunk);
    } catch (err) {
      if (err instanceof ProtocolError) this.fatal(err.message);
      return;
    }
    for (const words of sentences) {
      if (words.length === 0) continue;
      this.handle(parseCommand(words));
      if (this.closed) return;
    }
  }

  private write(sentences: Array<Array<string | Buffer>>): void {
    if (this.closed) return;
    const bytes = Buffer.concat(sentences.map(encodeSentence));
    if (this.behaviour.closeMidReply && bytes.length > 1) {
      this.behaviour.closeMidReply = false;
      this.socket.end(bytes.subarray(0, Math.floor(bytes.length / 2)));
      this.socket.destroySoon?.();
      setTimeout(() => this.socket.destroy(), 10);
      return;
    }
    this.socket.write(bytes);
  }

  private fatal(message: string): void {
    if (this.closed) return;
    this.socket.end(encodeSentence(['!fatal', message]));
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.running.values()) stop();
    this.running.clear();
    this.onClose();
  }

  private tagged(words: string[], tag: string | undefined): string[] {
    return tag === undefined ? words : [words[0] as string, `.tag=${tag}`, ...words.slice(1)];
  }

  private trap(err: Trap, tag: string | undefined): void {
    const words = ['!trap'];
    if (err.category !== undefined) words.push(`=category=${err.category}`);
    words.push(`=message=${err.message}`);
    this.write([this.tagged(words, tag), this.tagged(['!done'], tag)]);
  }

  private handle(cmd: Command): void {
    try {
      if (cmd.path === '/quit') {
        this.fatal('session terminated on request');
        return;
      }
      if (cmd.path === '/login') {
        this.login(cmd);
        return;
      }
      if (!this.loggedIn) {
        // RouterOS refuses any command before a successful login.
        throw new Trap('not logged in', 5);
      }
      if (cmd.path === '/cancel') {
        this.cancel(cmd);
        return;
      }
      this.dispatch(cmd);
    } catch (err) {
      if (err instanceof Trap) this.trap(err, cmd.tag);
      else this.fatal(`internal error: ${(err as Error).message}`);
    }
  }

  private login(cmd: Command): void {
    const name = cmd.attrs.get('name');
    if (this.router.usesChallengeLogin) {
      const response = cmd.attrs.get('response');
      if (name === undefined || response === undefined) {
        this.challenge = randomBytes(16);
        this.write([this.tagged(['!done', `=ret=${this.challenge.toString('hex')}`], cmd.tag)]);
        return;
      }
      const expected = this.challenge
        ? '00' +
          createHash('md5')
            .update(
              Buffer.concat([Buffer.from([0]), Buffer.from(this.router.password, 'latin1'), this.challenge]),
            )
            .digest('hex')
        : undefined;
      if (name === this.router.username && response === expected) {
        this.loggedIn = true;
        this.write([this.tagged(['!done'], cmd.tag)]);
        return;
      }
      throw new Trap('cannot log in');
    }
    if (name === this.router.username && cmd.attrs.get('password') === this.router.password) {
      this.loggedIn = true;
      this.write([this.tagged(['!done'], cmd.tag)]);
      return;
    }
    // RouterOS 6.43+ answers a wrong name or password with this text (category absent).
    throw new Trap('invalid user name or password (6)');
  }

  private cancel(cmd: Command): void {
    const target = cmd.attrs.get('tag');
    if (target === undefined) {
      for (const [tag, stop] of this.running) this.interrupt(tag, stop);
      this.write([this.tagged(['!done'], cmd.tag)]);
      return;
    }
    const stop = this.running.get(target);
    if (!stop) throw new Trap('no such command', 0);
    this.write([this.tagged(['!trap', '=category=2', '=message=interrupted'], target)]);
    this.write([this.tagged(['!done'], cmd.tag)]);
    this.running.delete(target);
    stop();
    this.write([this.tagged(['!done'], target)]);
  }

  private interrupt(tag: string, stop: () => void): void {
    this.write([this.tagged(['!trap', '=category=2', '=message=interrupted'], tag)]);
    this.running.delete(tag);
    stop();
    this.write([this.tagged(['!done'], tag)]);
  }

  private dispatch(cmd: Command): void {
    const slash = cmd.path.lastIndexOf('/');
    const menuPath = cmd.path.slice(0, slash);
    const verb = cmd.path.slice(slash + 1);
    const refusal = this.behaviour.refusedMenus?.get(menuPath);
    if (refusal !== undefined) throw new Trap(refusal);
    const menu = MENUS.get(menuPath);
    this.router.commandsReceived.set(cmd.path, (this.router.commandsReceived.get(cmd.path) ?? 0) + 1);
    if (!menu) {
      if (KNOWN_PREFIXES.has(menuPath) || KNOWN_PREFIXES.has(cmd.path)) throw new Trap('no such command', 0);
      throw new Trap('no such command prefix', 0);
    }
    switch (verb) {
      case 'print':
      case 'getall':
        this.print(menu, cmd);
        return;
      case 'listen':
        this.listen(menu, menuPath, cmd);
        return;
      case 'add': {
        if (!menu.add) throw new Trap('no such command', 0);
        this.checkParams(menu, cmd.attrs);
        const id = menu.add(this.router, cmd.attrs);
        this.write([this.tagged(['!done', `=ret=${id}`], cmd.tag)]);
        return;
      }
      case 'set': {
        if (!menu.set) throw new Trap('no such command', 0);
        this.checkParams(menu, cmd.attrs);
        const ids = SINGLETONS.has(menuPath) ? [''] : this.items(menu, cmd.attrs);
        for (const id of ids) menu.set(this.router, id, cmd.attrs);
        this.write([this.tagged(['!done'], cmd.tag)]);
        return;
      }
      case 'remove':
      case 'enable':
      case 'disable': {
        const op = verb === 'remove' ? menu.remove : menu.enable;
        if (!op) throw new Trap('no such command', 0);
        for (const id of this.items(menu, cmd.attrs)) {
          if (verb === 'remove') menu.remove?.(this.router, id);
          else menu.enable?.(this.router, id, verb === 'enable');
        }
        this.write([this.tagged(['!done'], cmd.tag)]);
        return;
      }
      default:
        throw new Trap('no such command', 0);
    }
  }

  private checkParams(menu: Menu, attrs: Args): void {
    for (const key of attrs.keys()) {
      if (key === '.id' || key === 'numbers') continue;
      if (!menu.params?.includes(key)) throw new Trap(`unknown parameter ${key}`, 1);
    }
  }

  private items(menu: Menu, attrs: Args): string[] {
    const ref = attrs.get('.id') ?? attrs.get('numbers');
    if (ref === undefined || ref === '') throw new Trap('no such item', 0);
    return ref.split(',').map((one) => {
      const id = menu.find?.(this.router, one);
      if (id === undefined) throw new Trap('no such item', 0);
      return id;
    });
  }

  private print(menu: Menu, cmd: Command): void {
    const rows = menu.rows(this.router).filter((row) => matchesQuery(row, cmd.queries));
    if (cmd.attrs.has('count-only')) {
      this.write([this.tagged(['!done', `=ret=${rows.length}`], cmd.tag)]);
      return;
    }
    const proplist = cmd.attrs.get('.proplist');
    const fields = proplist === undefined ? undefined : proplist.split(',').filter(Boolean);
    const sentences: string[][] = rows.map((row) => this.tagged(['!re', ...rowWords(row, fields)], cmd.tag));
    if (rows.length === 0 && this.router.sendsEmpty) sentences.push(this.tagged(['!empty'], cmd.tag));
    sentences.push(this.tagged(['!done'], cmd.tag));
    this.write(sentences);
  }

  private listen(menu: Menu, menuPath: string, cmd: Command): void {
    if (!menu.listen) throw new Trap('no such command', 0);
    if (cmd.tag === undefined) throw new Trap('listen requires a .tag to be cancelled', 5);
    const tag = cmd.tag;
    const stop = this.router.onChange(menuPath, (row) =>
      this.write([this.tagged(['!re', ...rowWords(row, undefined)], tag)]),
    );
    this.running.set(tag, stop);
  }
}

function rowWords(row: Row, fields: string[] | undefined): string[] {
  if (fields === undefined) return Object.entries(row).map(([k, v]) => `=${k}=${v}`);
  const words: string[] = [];
  for (const f of fields) {
    const v = row[f];
    if (v !== undefined) words.push(`=${f}=${v}`);
  }
  return words;
}
