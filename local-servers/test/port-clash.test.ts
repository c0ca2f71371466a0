// A port taken between freePort() and the server binding it: the start is tried again on a new port, and
// a server that exits is reported at once with its own words (not after the readiness deadline).
import { retryPortClash } from '../src/ports.js';
import { startPrometheus } from '../src/prometheus.js';

describe('port clashes', () => {
  it('starts again on "address already in use", up to three times; other errors at once', async () => {
    let calls = 0;
    await expect(
      retryPortClash(async () => {
        calls += 1;
        if (calls < 3) throw new Error('listen tcp 127.0.0.1:4000: bind: address already in use');
        return 'started';
      }),
    ).resolves.toBe('started');
    expect(calls).toBe(3);

    calls = 0;
    await expect(
      retryPortClash(async () => {
        calls += 1;
        throw new Error('bind: address already in use');
      }),
    ).rejects.toThrow('address already in use');
    expect(calls).toBe(3);

    calls = 0;
    await expect(
      retryPortClash(async () => {
        calls += 1;
        throw new Error('unknown flag --nope');
      }),
    ).rejects.toThrow('unknown flag');
    expect(calls).toBe(1);
  });

  it('reports a Prometheus that exits at start as exited, with its log, not as a readiness timeout', async () => {
    const began = Date.now();
    const error = await startPrometheus({ extraArgs: ['--no-such-flag'] }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/prometheus exited \(code 1\)[\s\S]*unknown long flag '--no-such-flag'/);
    expect(error?.message).not.toMatch(/timed out/);
    expect(Date.now() - began).toBeLessThan(45_000); // the readiness deadline it no longer waits for
  }, 60_000);
});
