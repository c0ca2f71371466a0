import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuSecondsByPid, loadAverage, processCpu, processTreeCpuSeconds } from '../src/process-cpu.js';

describe('CPU time from /proc', () => {
  it('reads this process, and nothing for a process that does not exist', () => {
    const me = processCpu(process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(me?.own).toBeGreaterThan(0);
    expect(processCpu(2 ** 22 + 1)).toBeUndefined(); // above Linux's pid_max
    const byPid = cpuSecondsByPid([process.pid, 2 ** 22 + 1]);
    expect([...byPid.keys()]).toEqual([process.pid]);
    expect(byPid.get(process.pid)).toBeGreaterThan(0);
  });

  it('counts a child that spun, once it has ended', async () => {
    const before = processTreeCpuSeconds(process.pid);
    const child = spawn(process.execPath, [
      '-e',
      // Spins until it has used 0.2 s of CPU, however loaded the machine is.
      'while (process.cpuUsage().user < 200000);',
    ]);
    await once(child, 'exit');
    // Waited for: its CPU time is now in this process's cutime + cstime.
    expect(processTreeCpuSeconds(process.pid) - before).toBeGreaterThanOrEqual(0.15);
  });

  it('formats three load averages', () => {
    expect(loadAverage()).toMatch(/^\d+\.\d \d+\.\d \d+\.\d$/);
  });
});
