// Interface counters: computed from elapsed time at print time (no timer per router, so idle routers
// cost nothing), frozen while the link is down, with errors a scenario injects on top of the background.
import type { InterfaceSpec } from './model.js';

/** An interface of a simulated router: its spec, link state and what its counters had counted. */
export interface SimInterface extends InterfaceSpec {
  id: string;
  running: boolean;
  disabled: boolean;
  linkDowns: number;
  /** Seconds (router clock) when the counters last stopped/started; counters freeze while down. */
  frozenRx: bigint;
  frozenTx: bigint;
  upSince: number;
  /** Receive errors a scenario injects (a dirty optic): per second, and those counted before the last change. */
  injectedErrorRate: number;
  injectedErrorsBefore: number;
  injectedSince: number;
}

/** Byte counters at `now` (seconds): the base, what was counted before the last change, and since. */
export function interfaceCounters(iface: SimInterface, now: number): { rx: bigint; tx: bigint } {
  const active = iface.running && !iface.disabled;
  const elapsed = active ? Math.max(0, now - iface.upSince) : 0;
  return {
    rx: iface.rxBase + iface.frozenRx + BigInt(Math.floor(elapsed * iface.rxRate)),
    tx: iface.txBase + iface.frozenTx + BigInt(Math.floor(elapsed * iface.txRate)),
  };
}

/** Receive errors injected by scenarios up to `now` (none while the link is down). */
export function injectedErrors(iface: SimInterface, now: number): number {
  const active = iface.running && !iface.disabled;
  const elapsed = active ? Math.max(0, now - iface.injectedSince) : 0;
  return iface.injectedErrorsBefore + Math.floor(elapsed * iface.injectedErrorRate);
}

/** Counts what was injected so far before the rate or the link state changes. */
export function foldInjectedErrors(iface: SimInterface, now: number): void {
  iface.injectedErrorsBefore = injectedErrors(iface, now);
  iface.injectedSince = now;
}

/** Keeps what the counters counted before the link state changes (counters freeze while down). */
export function freezeCounters(iface: SimInterface, now: number): void {
  foldInjectedErrors(iface, now);
  const counters = interfaceCounters(iface, now);
  iface.frozenRx = counters.rx - iface.rxBase;
  iface.frozenTx = counters.tx - iface.txBase;
  iface.upSince = now;
}
