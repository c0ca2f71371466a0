import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from './load.js';

const parse = (yaml: string): ReturnType<typeof parseConfig> => parseConfig(yaml, 'test.yml', '/tmp');

describe('exporter configuration', () => {
  it('names the path and the problem of every invalid field', () => {
    expect(() =>
      parse('targets:\n  routers:\n    - { name: r1, host: h, username: u, password: p, port: 99999 }\n'),
    ).toThrow('test.yml: targets.routers.0.port: Too big: expected number to be <=65535');
    expect(() =>
      parse('targets:\n  routers:\n    - { name: r1, host: h, username: u, password: p, colour: red }\n'),
    ).toThrow(/targets\.routers\.0: Unrecognized key: "colour"/);
    expect(() => parse('modules:\n  m: { type: routeros, collectors: [interfaces, bogus] }\n')).toThrow(
      /modules\.m\.collectors: unknown collector 'bogus'/,
    );
    expect(() =>
      parse('targets:\n  routers:\n    - { name: r1, host: h, username: u, password: p, module: nope }\n'),
    ).toThrow(/targets\.routers\.0\.module: no routeros module named 'nope'/);
    expect(() => parse('targets: [unclosed\n')).toThrow(/test\.yml: invalid YAML/);
  });

  it('refuses an unknown encoding at load, naming the field, and accepts real code pages', () => {
    const router = (encoding: string): string =>
      `targets:\n  routers:\n    - { name: r1, host: h, username: u, password: p, encoding: ${encoding} }\n`;
    expect(() => parse(router('windows1251'))).toThrow(
      'test.yml: targets.routers.0.encoding: unknown encoding: use a WHATWG encoding label such as windows-1252, windows-1251 or iso-8859-2',
    );
    expect(() => parse(router('klingon'))).toThrow(/targets\.routers\.0\.encoding: unknown encoding/);
    for (const known of ['windows-1251', 'cp1251', 'iso-8859-2', 'windows-1252'])
      expect(parse(router(known)).targets.routers[0]?.encoding).toBe(known);
  });

  it('rejects duplicate target names', () => {
    expect(() =>
      parse(
        'targets:\n  routers:\n    - { name: r1, host: a, username: u, password: p }\n    - { name: r1, host: b, username: u, password: p }\n',
      ),
    ).toThrow(/duplicate target name 'r1'/);
  });

  it('never repeats a secret value in an error', () => {
    try {
      parse(
        'targets:\n  routers:\n    - { name: r1, host: h, username: u, password: { env: NOPE, extra: "hunter2" } }\n',
      );
      throw new Error('should have failed');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('accepts the shipped example configuration', () => {
    const example = readFileSync(join(process.cwd(), 'exporter/examples/exporter.yml'), 'utf8');
    const config = parse(example);
    expect(Object.keys(config.modules)).toEqual(expect.arrayContaining(['routeros', 'routeros_subscribers']));
  });
});
