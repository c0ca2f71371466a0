import { encodeText } from '../../exposition.js';
import { health } from './health.js';

const options = { pppSessionDetail: false, pppSessionLimit: 10, dynamicQueues: false };
const exposition = (rows: Array<Record<string, string>>): string =>
  encodeText(health.collect([rows], options));

describe('health states', () => {
  it('exports a failed power supply of a RouterOS 7 router as a stateset', () => {
    const text = exposition([
      { '.id': '*D', name: 'psu1-state', value: 'ok', type: '' },
      { '.id': '*E', name: 'psu2-state', value: 'fail', type: '' },
      { '.id': '*F', name: 'fan1-speed', value: '5040', type: 'RPM' },
    ]);
    expect(text).toContain('mikrotik_health_state{sensor="psu1-state",state="ok"} 1\n');
    expect(text).toContain('mikrotik_health_state{sensor="psu1-state",state="fail"} 0\n');
    expect(text).toContain('mikrotik_health_state{sensor="psu2-state",state="ok"} 0\n');
    expect(text).toContain('mikrotik_health_state{sensor="psu2-state",state="fail"} 1\n');
    expect(text).toContain('mikrotik_health_fan_speed_rpm{sensor="fan1-speed"} 5040\n');
  });

  it('reads the same states from the flat fields of RouterOS 6, and keeps states it does not know', () => {
    const text = exposition([
      {
        'psu1-state': 'ok',
        'psu2-state': 'fail',
        'fan-mode': 'auto',
        'fan1-state': 'stopped',
        voltage: '24.1',
      },
    ]);
    expect(text).toContain('mikrotik_health_state{sensor="psu2-state",state="fail"} 1\n');
    expect(text).toContain('mikrotik_health_state{sensor="fan1-state",state="stopped"} 1\n');
    expect(text).toContain('mikrotik_health_state{sensor="fan1-state",state="ok"} 0\n');
    // Settings (fan-mode) are not states.
    expect(text).not.toContain('fan-mode');
    expect(text).toContain('mikrotik_health_voltage_volts{sensor="voltage"} 24.1\n');
  });
});
