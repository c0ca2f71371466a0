// A tiny RouterOS API server that answers each command with replies recorded in a fixture file, over the
// real wire protocol (the lab's server-side codec, written apart from the client under test). It logs in
// one user, honours `=.proplist=` as a router does (only the listed fields come back), tags every reply
// sentence (`.tag` last, as it may appear on the wire), and refuses unknown commands as RouterOS does.
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { encodeSentence, SentenceDecoder } from '@ispmon/lab';

/** One reply sentence: the reply word (`!re`, `!done`, `!empty`, `!trap`) and its attribute words, as bytes. */
export type RecordedSentence = Buffer[];

export interface Recording {
  /** From `@version` in the fixture. */
  version: string;
  /** Command path (`/interface/print`) → the sentences the router sent for it. */
  replies: Map<string, RecordedSentence[]>;
}

/** Turns `\xHH` escapes into raw bytes (a comment stored by Winbox in windows-1252); the rest is UTF-8. */
function wordBytes(line: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of line.matchAll(/\\x([0-9a-fA-F]{2})/g)) {
    parts.push(
      Buffer.from(line.slice(last, m.index), 'utf8'),
      Buffer.from([Number.parseInt(m[1] ?? '', 16)]),
    );
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(Buffer.from(line.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Fixture format: `# comment`, `@version 7.18.2`, `> /menu/print` starts a command's replies, a line
 * starting with `!` starts a sentence, `=name=value` lines are its words.
 */
export function parseRecording(text: string, source: string): Recording {
  let version = '';
  const replies = new Map<string, RecordedSentence[]>();
  let current: RecordedSentence[] | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('@version ')) version = line.slice(9).trim();
    else if (line.startsWith('> ')) {
      current = [];
      replies.set(line.slice(2).trim(), current);
    } else if (line.startsWith('!')) {
      if (!current) throw new Error(`${source}:${i + 1}: reply before any '> command' line`);
      current.push([wordBytes(line)]);
    } else if (line.startsWith('=')) {
      const sentence = current?.[current.length - 1];
      if (!sentence) throw new Error(`${source}:${i + 1}: attribute word outside a sentence`);
      sentence.push(wordBytes(line));
    } else throw new Error(`${source}:${i + 1}: cannot read '${line}'`);
  }
  return { version, replies };
}

export function loadRecording(path: string): Recording {
  return parseRecording(readFileSync(path, 'utf8'), path);
}

export interface ReplayRouter {
  port: number;
  /** Every command received after login, in order. */
  commands: string[];
  close(): Promise<void>;
}

export async function startReplayRouter(
  recording: Recording,
  credentials = { username: 'monitor', password: 'recorded' },
): Promise<ReplayRouter> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const decoder = new SentenceDecoder();
    let loggedIn = false;
    socket.on('data', (chunk: Buffer) => {
      for (const words of decoder.push(chunk)) {
        const [path = '', ...rest] = words.map((w) => w.toString('latin1'));
        const attr = (name: string): string | undefined =>
          rest.find((w) => w.startsWith(`=${name}=`))?.slice(name.length + 2);
        const tag = rest.find((w) => w.startsWith('.tag='));
        const send = (sentences: Array<Array<string | Buffer>>): void => {
          for (const s of sentences) socket.write(encodeSentence(tag ? [...s, tag] : s));
        };
        if (path === '/login') {
          loggedIn = attr('name') === credentials.username && attr('password') === credentials.password;
          send(loggedIn ? [['!done']] : [['!trap', '=message=invalid user name or password (6)'], ['!done']]);
          continue;
        }
        if (!loggedIn) {
          send([['!trap', '=category=5', '=message=not logged in'], ['!done']]);
          continue;
        }
        commands.push(path);
        const recorded = recording.replies.get(path);
        if (!recorded) {
          send([['!trap', '=category=0', '=message=no such command prefix'], ['!done']]);
          continue;
        }
        const proplist = attr('.proplist')?.split(',');
        send(
          recorded.map(([head, ...fields]) => [
            head as Buffer,
            ...fields.filter((f) => {
              if (!proplist || (head as Buffer).toString('latin1') !== '!re') return true;
              const eq = f.indexOf(0x3d, 1);
              return proplist.includes(f.subarray(1, eq < 0 ? undefined : eq).toString('latin1'));
            }),
          ]),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    commands,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
