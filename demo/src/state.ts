// What a running demo tells the story (and a curious user): written to <work>/demo.json (0600) once
// everything is up, removed with the work directory at stop.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoState {
  pid: number;
  work: string;
  intervalSeconds: number;
  prometheus: string;
  alertmanager: string;
  exporter: string;
  labControl: string;
  routers: Array<{ name: string; host: string; port: number; username: string; password: string }>;
  /** The alert router; its database is the one Grafana's alert-history dashboard reads. */
  alertRouter: { url: string; token: string; databaseUrl: string };
  /** The console channel's base URL (GET /notifications lists what it printed). */
  console: string;
  billing: { url: string; token: string };
  subscription: { id: number; pppUsername: string; router: string };
  /** demo-budi's side: PPP address, his browser behind the router (an HTTP proxy), the site he opens,
   * his phone's inbox (GET: the notices delivered), the payment provider's address the garden allows. */
  subscriber: { address: string; proxy: string; site: string; inbox: string; paymentHost: string };
  /** The isolation page. */
  portal: string;
  /** Client links: billing's id and code, the probed address, its namespace and host-side link. */
  links: Array<{ id: number; code: string; address: string; namespace: string; hostLink: string }>;
}

export function readDemoState(work: string): DemoState {
  const file = join(work, 'demo.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `no running demo: ${file} is missing (start it with bash scripts/demo.sh and wait for its banner)`,
    );
  }
  const state = JSON.parse(text) as DemoState;
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new Error(`the demo that wrote ${file} (pid ${state.pid}) is not running any more`);
  }
  return state;
}
