import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { httpOk } from './wait.js';

/** A child server process whose output is kept (bounded) for error messages, stopped with SIGTERM then SIGKILL. */
export class ServerProcess {
  private readonly output: string[] = [];
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(code);
      });
      child.once('error', (err) => {
        keep(Buffer.from(String(err)));
        this.exitCode = -1;
        resolve(-1);
      });
    });
  }

  static start(name: string, command: string, args: string[], options: SpawnOptions = {}): ServerProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    return new ServerProcess(name, child);
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines the server printed, for error messages. */
  logTail(lines = 30): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  /** Throws with the server's own output if it has exited. */
  assertRunning(): void {
    if (!this.running) {
      throw new Error(`${this.name} exited (code ${String(this.exitCode)}):\n${this.logTail()}`);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    await this.stop('SIGKILL', 0);
  }
}

/**
 * Waits until `readyUrl` answers 2xx while `server` keeps running; on failure stops it, removes its
 * temporary directory and throws with the server's last log lines. 45 s by default: CI starts four test
 * files' servers at once on two cores, and a start that takes 1 s idle has taken over 10 s there.
 */
export async function awaitReady(
  server: ServerProcess,
  what: string,
  readyUrl: string,
  tempDir: string,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      server.assertRunning(); // a server that exited (a port taken, a bad flag) fails at once, not at the deadline
      if (await httpOk(readyUrl).catch(() => undefined)) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await server.stop();
    rmSync(tempDir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${server.logTail()}`);
  }
}
