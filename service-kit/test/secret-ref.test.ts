import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSecret } from '../src/secret-ref.js';

describe('resolveSecret', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ispmon-secret-ref-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives a literal, a variable from the given environment, and a file without its trailing newline', () => {
    writeFileSync(join(dir, 'token'), 'from-file\n');
    expect(resolveSecret(undefined, 'x')).toBeUndefined();
    expect(resolveSecret('inline', 'x')).toBe('inline');
    expect(resolveSecret({ env: 'TOKEN' }, 'x', { TOKEN: 'from-env' })).toBe('from-env');
    expect(resolveSecret({ file: join(dir, 'token') }, 'x')).toBe('from-file');
  });

  it('names the field when the variable is not set or the file cannot be read, never the value', () => {
    expect(() => resolveSecret({ env: 'NOT_SET' }, 'sms.token', {})).toThrow(
      'sms.token: environment variable NOT_SET is not set',
    );
    expect(() => resolveSecret({ file: join(dir, 'missing') }, 'email.smtp_url')).toThrow(
      `email.smtp_url: cannot read secret file ${join(dir, 'missing')}`,
    );
  });
});
