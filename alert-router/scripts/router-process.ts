// The alert router as its own process (`node dist/main.js`) for the benches, ready when /readyz answers,
// and the webhook POST the benches send it as Alertmanager would (again until a 2xx).
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type Agent } from 'node:http';
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

/** POSTs until a 2xx (Alertmanager retries 5xx and timeouts); returns the number of failed tries. */
export async function deliver(agent: Agent, url: string, body: string, maxFailures = 1000): Promise<number> {
  for (let failures = 0; ; failures++) {
    const status = await new Promise<number>((resolve) => {
      const req = request(
        `${url}/webhook/alertmanager`,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
    if (status >= 200 && status < 300) return failures;
    if (failures > maxFailures)
      throw new Error(`webhook refused ${maxFailures.toLocaleString('en-US')} times (last status ${status})`);
  }
}
