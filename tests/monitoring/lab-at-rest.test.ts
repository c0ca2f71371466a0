// The lab's routers at rest stay below the shipped alert thresholds (no alert noise in the demo), and the
// lab's fault scenarios still push them over.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RouterModel, type Row } from '@ispmon/lab';
import { repoRoot } from '../support/paths.js';

const thresholds = new Map(
  (
    parse(readFileSync(join(repoRoot, 'prometheus/rules/thresholds.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ record: string; expr: string }> }>;
    }
  ).groups
    .flatMap((g) => g.rules)
    .map((r) => [r.record.replace('ispmon:threshold:', ''), Number(/^vector\((.+)\)$/.exec(r.expr)?.[1])]),
);
const threshold = (name: string): number => {
  const v = thresholds.get(name);
  if (v === undefined || !Number.isFinite(v)) throw new Error(`no threshold ${name} in thresholds.yml`);
  return v;
};

/** A router on a hand-driven clock, as the lab builds them (24 interfaces: 12 SFP+, 2 copper, 10 VLANs). */
function router(seed: number, version = '7.12.1'): { model: RouterModel; advance: (s: number) => void } {
  let now = Date.UTC(2026, 10, 30, 12);
  const model = new RouterModel(
    { name: `r${seed}`, version, username: 'admin', password: 'x', seed, interfaces: 24, pppSessions: 30 },
    () => now,
  );
  return { model, advance: (s) => (now += s * 1000) };
}

/** Errors plus drops per second, the sum RouterInterfaceErrors compares (what the exporter maps). */
const errorsAndDrops = (row: Row): number =>
  ['rx-error', 'tx-error', 'rx-drop', 'tx-drop'].reduce((sum, f) => sum + Number(row[f] ?? 0), 0);

describe('the lab at rest', () => {
  const seeds = Array.from({ length: 20 }, (_, i) => i + 1);

  it('keeps every interface of 20 routers under the errors+drops threshold over 10 minutes', () => {
    const limit = threshold('interface_errors_per_second');
    let worst = 0;
    for (const seed of seeds) {
      const { model, advance } = router(seed);
      const before = model.interfaces.map((i) => errorsAndDrops(model.interfaceRow(i)));
      advance(600);
      model.interfaces.forEach((iface, n) => {
        worst = Math.max(worst, (errorsAndDrops(model.interfaceRow(iface)) - (before[n] ?? 0)) / 600);
      });
    }
    // Realistic, not zero: healthy uplinks drop a few packets a minute.
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThan(limit / 5);
  });

  it('keeps utilisation, CPU, memory and temperature under their thresholds', () => {
    let utilisation = 0;
    let cpu = 0;
    let memory = 0;
    let temperature = 0;
    for (const seed of seeds) {
      const { model, advance } = router(seed, seed % 2 ? '7.12.1' : '6.49.10');
      const bytes = model.interfaces.map((i) => model.interfaceRow(i));
      for (let t = 0; t < 3600; t += 60) {
        advance(60);
        const res = model.resourceRow();
        cpu = Math.max(cpu, Number(res['cpu-load']) / 100);
        memory = Math.max(memory, 1 - Number(res['free-memory']) / Number(res['total-memory']));
        for (const h of model.healthRows()) {
          const celsius = h.type === 'C' ? Number(h.value) : Number(h.temperature ?? h['cpu-temperature']);
          if (Number.isFinite(celsius)) temperature = Math.max(temperature, celsius);
        }
      }
      model.interfaces.forEach((iface, n) => {
        const row = model.interfaceRow(iface);
        if (!iface.speedMbps) return;
        const capacity = (iface.speedMbps * 1e6) / 8;
        for (const f of ['rx-byte', 'tx-byte']) {
          const rate = Number(BigInt(row[f] ?? '0') - BigInt(bytes[n]?.[f] ?? '0')) / 3600;
          utilisation = Math.max(utilisation, rate / capacity);
        }
      });
    }
    expect({ utilisation, cpu, memory, temperature }).toEqual({
      utilisation: expect.any(Number) as number,
      cpu: expect.any(Number) as number,
      memory: expect.any(Number) as number,
      temperature: expect.any(Number) as number,
    });
    expect(utilisation).toBeGreaterThan(0);
    expect(utilisation).toBeLessThan(threshold('interface_utilisation_ratio'));
    expect(cpu).toBeLessThan(threshold('cpu_load_ratio'));
    expect(memory).toBeLessThan(threshold('memory_used_ratio'));
    expect(temperature).toBeGreaterThan(0);
    expect(temperature).toBeLessThan(threshold('temperature_celsius'));
  });

  it('raises interface errors above the threshold while a scenario injects them, and only then', () => {
    const limit = threshold('interface_errors_per_second');
    const { model, advance } = router(3);
    const sfp = model.interfaces.find((i) => i.name === 'sfp-sfpplus5');
    if (!sfp) throw new Error('no sfp-sfpplus5');
    const read = (): number => errorsAndDrops(model.interfaceRow(sfp));
    const rateOver = (seconds: number): number => {
      const before = read();
      advance(seconds);
      return (read() - before) / seconds;
    };
    expect(rateOver(600)).toBeLessThan(limit);
    expect(model.setInterfaceErrorRate('sfp-sfpplus5', 5)).toBe(true);
    const injected = rateOver(600);
    expect(injected).toBeGreaterThanOrEqual(5);
    expect(injected).toBeLessThan(5.5);
    // A link that is down counts nothing, injected or not; the counter never goes back.
    model.setInterfaceRunning('sfp-sfpplus5', false);
    expect(rateOver(300)).toBe(0);
    model.setInterfaceRunning('sfp-sfpplus5', true);
    expect(rateOver(300)).toBeGreaterThanOrEqual(5);
    model.setInterfaceErrorRate('sfp-sfpplus5', 0);
    expect(rateOver(600)).toBeLessThan(limit / 5);
    expect(model.setInterfaceErrorRate('no-such-port', 5)).toBe(false);
  });
});
