// The ICMP probe tests need fping (Debian package `fping`). In CI a missing fping fails the file; locally
// the tests are skipped and say what is missing.
import { findBinary } from '@ispmon/testkit';

function missing(): string | undefined {
  try {
    findBinary('fping', 'fping');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** `describe`, or `describe.skip` with a printed reason when fping is missing outside CI. */
export function describeWithFping(what: string): jest.Describe {
  const reason = missing();
  if (!reason) return describe;
  if (process.env.CI === 'true') {
    it(`has fping for ${what}`, () => {
      throw new Error(reason);
    });
  } else console.warn(`${what} skipped: ${reason}`);
  return describe.skip;
}
