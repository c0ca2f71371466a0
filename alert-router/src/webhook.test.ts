// The webhook's wake-up of the escalation and outbox jobs: a burst of commits is one wake per period,
// and no commit is left without a wake that starts after it.
import { jest } from '@jest/globals';
import { throttledWake } from './webhook.js';

describe('waking the workers after webhooks commit', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('wakes at once, then at most once per 100 ms through a burst, and once more after the last commit', () => {
    const wakes: number[] = [];
    const t0 = performance.now();
    const commitsAt: number[] = [];
    const commit = throttledWake(() => wakes.push(performance.now() - t0), 100);
    commit();
    commitsAt.push(0);
    expect(wakes).toEqual([0]);
    // 100 webhooks a second for 250 ms
    for (let i = 1; i <= 25; i++) {
      jest.advanceTimersByTime(10);
      commit();
      commitsAt.push(performance.now() - t0);
    }
    jest.advanceTimersByTime(1_000);
    expect(wakes).toEqual([0, 100, 200, 300]);
    // every commit is followed by a wake at or after it
    for (const c of commitsAt) expect(wakes.some((w) => w >= c)).toBe(true);
    // quiet: nothing more
    jest.advanceTimersByTime(1_000);
    expect(wakes).toHaveLength(4);
  });

  it('wakes at once again after a quiet period', () => {
    let wakes = 0;
    const commit = throttledWake(() => (wakes += 1), 100);
    commit();
    jest.advanceTimersByTime(500);
    commit();
    expect(wakes).toBe(2);
  });
});
