// Test order: the files that wait longest on real servers (production alert timers, Chromium, whole
// stacks) start first, so on a fresh clone (no timing cache yet) the run is not as long as the
// latest-starting slow file. Within the rest, jest's own order (cached durations, then file size).
const Sequencer = require('@jest/test-sequencer').default;

const SLOW_FIRST = [
  'tests/demo.test.ts', // ~390 s: the demo's warm-up and quiet period, then the story
  'tests/monitoring/stack.test.ts', // ~150 s
  'billing/src/sla/sla.live.test.ts', // ~120 s
  'billing/src/sla/report/pdf.test.ts',
  'tests/scale/cluster.test.ts', // ~100 s: two shards, VictoriaMetrics, eight services, 300 lab routers
];

class SlowFilesFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const i = SLOW_FIRST.findIndex((file) => test.path.endsWith(file));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return [...super.sort(tests)].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = SlowFilesFirst;
