import type { MetricFamily, Sample } from '../../exposition.js';
import { parseNumber, type RouterOsRow } from '@ispmon/routeros';
import type { RouterOsCollector } from './types.js';

/**
 * /system/health. RouterOS 6 prints one row of flat fields (`temperature=38 voltage=24.1 fan1-speed=…`);
 * RouterOS 7 prints a row per sensor (`name=temperature value=38 type=C`). Both become the same series.
 */
export function healthSensors(
  rows: RouterOsRow[],
): Array<{ sensor: string; value: number; kind: 'temperature' | 'voltage' | 'fan' | 'current' | 'power' }> {
  const pairs: Array<[string, string | undefined, string | undefined]> = [];
  for (const row of rows) {
    if (row.name !== undefined && row.value !== undefined) pairs.push([row.name, row.value, row.type]);
    else for (const [k, v] of Object.entries(row)) if (k !== '.id') pairs.push([k, v, undefined]);
  }
  const out: ReturnType<typeof healthSensors> = [];
  for (const [name, raw, type] of pairs) {
    const value = parseNumber(raw);
    if (value === undefined) continue;
    const kind =
      type === 'C' || name.endsWith('temperature')
        ? 'temperature'
        : type === 'V' || name.endsWith('voltage')
          ? 'voltage'
          : type === 'RPM' || /fan\d*-speed$/.test(name)
            ? 'fan'
            : type === 'A' || name.endsWith('current')
              ? 'current'
              : type === 'W' || name.endsWith('power-consumption')
                ? 'power'
                : undefined;
    if (kind) out.push({ sensor: name, value, kind });
  }
  return out;
}

/** RouterOS's PSU and fan states; any other value it prints becomes a state of its own. */
const KNOWN_STATES = ['ok', 'fail'] as const;

/**
 * Health fields that are states, not numbers (`psu1-state=ok`, `psu2-state=fail`, `fan1-state=ok`),
 * in both the v6 flat row and the v7 name/value rows.
 */
export function healthStates(rows: RouterOsRow[]): Array<{ sensor: string; state: string }> {
  const out: Array<{ sensor: string; state: string }> = [];
  for (const row of rows) {
    const pairs: Array<[string, string | undefined]> =
      row.name !== undefined && row.value !== undefined
        ? [[row.name, row.value]]
        : Object.entries(row).filter(([k]) => k !== '.id');
    for (const [sensor, value] of pairs)
      if (
        sensor.endsWith('-state') &&
        value !== undefined &&
        value !== '' &&
        parseNumber(value) === undefined
      )
        out.push({ sensor, state: value });
  }
  return out;
}

/** A stateset (as in OpenMetrics): one sample per known state, 1 for the one reported. */
function stateSamples(states: Array<{ sensor: string; state: string }>): Sample[] {
  return states.flatMap(({ sensor, state }) => [
    ...KNOWN_STATES.map((known) => ({ labels: { sensor, state: known }, value: state === known ? 1 : 0 })),
    ...((KNOWN_STATES as readonly string[]).includes(state) ? [] : [{ labels: { sensor, state }, value: 1 }]),
  ]);
}

const FAMILIES = {
  temperature: ['mikrotik_health_temperature_celsius', 'Temperature reported by a health sensor.'],
  voltage: ['mikrotik_health_voltage_volts', 'Supply voltage reported by a health sensor.'],
  fan: ['mikrotik_health_fan_speed_rpm', 'Fan speed in rotations per minute.'],
  current: ['mikrotik_health_current_amperes', 'Current reported by a health sensor.'],
  power: ['mikrotik_health_power_watts', 'Power consumption reported by a health sensor.'],
} as const;

export const health: RouterOsCollector = {
  name: 'health',
  defaultEnabled: true,
  commands: () => [{ path: '/system/health' }],
  collect: ([rows = []]) => {
    const samples = new Map<string, Sample[]>();
    for (const s of healthSensors(rows)) {
      const list = samples.get(s.kind) ?? [];
      list.push({ labels: { sensor: s.sensor }, value: s.value });
      samples.set(s.kind, list);
    }
    const families: MetricFamily[] = [];
    for (const [kind, [name, help]] of Object.entries(FAMILIES)) {
      const list = samples.get(kind);
      if (list?.length) families.push({ name, help, type: 'gauge', samples: list });
    }
    const states = stateSamples(healthStates(rows));
    if (states.length)
      families.push({
        name: 'mikrotik_health_state',
        help: 'State of a health sensor such as a power supply or fan: 1 for the state it reports (ok, fail, …), 0 for the others.',
        type: 'gauge',
        samples: states,
      });
    return families;
  },
};
