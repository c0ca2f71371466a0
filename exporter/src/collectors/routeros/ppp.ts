import type { MetricFamily } from '../../exposition.js';
import { parseCounter, parseDuration, parsePair } from '../../routeros/values.js';
import type { RouterOsCollector } from './types.js';
import { countBy } from './types.js';

/**
 * PPP active sessions: counts per service and profile always (the profile comes from the subscriber's
 * secret: /ppp/active has none); per-subscriber uptime and bytes (from the dynamic `<pppoe-NAME>` simple
 * queue) only when the module opts in, capped at `pppSessionLimit` series.
 */
export const pppActive: RouterOsCollector = {
  name: 'ppp_active',
  defaultEnabled: true,
  commands: (o) => [
    { path: '/ppp/active', proplist: ['name', 'service', 'uptime'] },
    { path: '/ppp/secret', proplist: ['name', 'profile'] },
    ...(o.pppSessionDetail ? [{ path: '/queue/simple', proplist: ['name', 'bytes', 'dynamic'] }] : []),
  ],
  collect: ([active = [], secrets = [], queues = []], o) => {
    const profileOf = new Map(secrets.map((s) => [s.name ?? '', s.profile ?? '']));
    const families: MetricFamily[] = [
      {
        name: 'mikrotik_ppp_active_sessions',
        help: 'PPP sessions currently connected, by service and profile.',
        type: 'gauge',
        samples: countBy(active, (r) => ({
          service: r.service ?? '',
          profile: profileOf.get(r.name ?? '') ?? '',
        })),
      },
    ];
    if (!o.pppSessionDetail) return families;
    const shown = active.slice(0, o.pppSessionLimit);
    families.push({
      name: 'mikrotik_ppp_session_uptime_seconds',
      help: 'Time the subscriber has been connected (opt-in, per subscriber).',
      type: 'gauge',
      samples: shown.flatMap((r) => {
        const v = parseDuration(r.uptime);
        return v === undefined
          ? []
          : [{ labels: { user: r.name ?? '', service: r.service ?? '' }, value: v }];
      }),
    });
    const shownNames = new Set(shown.map((r) => r.name));
    const bytes = queues.flatMap((q) => {
      const m = /^<(?:pppoe|l2tp|pptp|sstp|ovpn)-(.+)>$/.exec(q.name ?? '');
      if (!m || !shownNames.has(m[1])) return [];
      const pair = parsePair(q.bytes, parseCounter);
      return pair ? [{ user: m[1] as string, upload: pair[0], download: pair[1] }] : [];
    });
    families.push(
      {
        name: 'mikrotik_ppp_session_upload_bytes_total',
        help: "Bytes the subscriber sent, from the session's dynamic queue (opt-in).",
        type: 'counter',
        samples: bytes.map((b) => ({ labels: { user: b.user }, value: b.upload })),
      },
      {
        name: 'mikrotik_ppp_session_download_bytes_total',
        help: "Bytes the subscriber received, from the session's dynamic queue (opt-in).",
        type: 'counter',
        samples: bytes.map((b) => ({ labels: { user: b.user }, value: b.download })),
      },
    );
    if (active.length > o.pppSessionLimit) {
      families.push({
        name: 'mikrotik_ppp_sessions_not_exported',
        help: 'Sessions left out of the per-subscriber metrics by the cardinality limit.',
        type: 'gauge',
        samples: [{ value: active.length - o.pppSessionLimit }],
      });
    }
    return families;
  },
};

/** PPP secrets (subscribers configured) by profile and state. */
export const pppSecrets: RouterOsCollector = {
  name: 'ppp_secrets',
  defaultEnabled: true,
  commands: () => [{ path: '/ppp/secret', proplist: ['profile', 'disabled'] }],
  collect: ([rows = []]) => [
    {
      name: 'mikrotik_ppp_secrets',
      help: 'PPP secrets configured, by profile and state (enabled/disabled).',
      type: 'gauge',
      samples: countBy(rows, (r) => ({
        profile: r.profile ?? '',
        state: r.disabled === 'true' || r.disabled === 'yes' ? 'disabled' : 'enabled',
      })),
    },
  ],
};
