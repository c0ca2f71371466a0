// What billing wants a router to hold for each subscription, and the gateway that makes it so.
// Implemented over the RouterOS API in provisioning/routeros-gateway.ts.
import type { GardenAction, WalledGardenReport } from './walled-garden.js';

export interface RouterEndpoint {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
  tls: boolean;
  timeoutMs?: number;
}

/** Desired state of one PPP secret on a router. */
export interface DesiredSecret {
  name: string; // PPP username
  password: string;
  service: 'pppoe' | 'any' | 'l2tp' | 'pptp' | 'ovpn' | 'sstp';
  /** Profile the secret should carry now (the plan's profile, or the isolation profile while isolated). */
  profile: string;
  disabled: boolean;
  localAddress?: string;
  remoteAddress?: string;
  comment?: string;
}

export interface ProfileSpec {
  name: string;
  rateLimit?: string; // RouterOS rate-limit string, e.g. '10M/10M' or '512k/512k'
  localAddress?: string;
  remoteAddress?: string; // pool name or address
  addressList?: string; // e.g. 'isolir' for isolation firewall rules
}

export type DriftKind =
  'missing_secret' | 'wrong_profile' | 'wrong_disabled' | 'wrong_password' | 'unknown_secret';

export interface Drift {
  secret: string;
  kind: DriftKind;
  expected?: string;
  actual?: string;
}

export interface ApplyResult {
  name: string;
  /** What was changed on the router ('created', 'updated', 'unchanged', 'removed'). */
  change: 'created' | 'updated' | 'unchanged' | 'removed';
  /** Active sessions removed so the change takes effect now. */
  sessionsKicked: number;
}

export interface RouterGateway {
  /** Makes sure the profiles exist with these settings (creates missing ones; updates rate limits). */
  ensureProfiles(router: RouterEndpoint, profiles: ProfileSpec[]): Promise<void>;
  /**
   * Makes each secret match its desired state (create/update; idempotent) and, where `kick` says so for
   * that name, removes its active sessions so the new state takes effect now. Commands are pipelined.
   */
  apply(router: RouterEndpoint, secrets: DesiredSecret[], kick: ReadonlySet<string>): Promise<ApplyResult[]>;
  /** Removes secrets (and their sessions) by name; missing ones are fine. */
  remove(router: RouterEndpoint, names: string[]): Promise<ApplyResult[]>;
  /** Compares desired with actual; `managedComment` marks secrets billing owns (others are left alone). */
  diff(router: RouterEndpoint, desired: DesiredSecret[], managedComment?: string): Promise<Drift[]>;
  /** The walled garden for the isolation address list (walled-garden.ts): report its drift, apply it, remove it. */
  walledGarden(router: RouterEndpoint, action: GardenAction): Promise<WalledGardenReport>;
  close(): Promise<void>;
}
