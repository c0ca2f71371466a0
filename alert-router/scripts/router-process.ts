// The alert router as its own process (`node dist/main.js`) for the benches, ready when /readyz answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, httpOk, waitFor } from '@ispmon/local-servers';

export interface RouterProcess {
  url: string;
  child: ChildProcess;
}

/** `nodeArgs` go before the script (e.g. `--cpu-prof`); logs at warn go to this process's stderr. */
export async function startRouterProcess(
  databaseUrl: string,
  configFile: string,
  nodeArgs: string[] = [],
): Promise<RouterProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, new URL('../dist/main.js', import.meta.url).pathname], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      ALERT_ROUTER_CONFIG: configFile,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `alert router on ${url}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`alert router exited with ${child.exitCode}`);
      return httpOk(`${url}/readyz`);
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return { url, child };
}
