// Alertmanager silences (API v2) for acknowledgements that ask for one: equality matchers on every
// label of the incident, from now for the given minutes.

export class SilenceRefused extends Error {}

export async function createSilence(
  alertmanagerUrl: string,
  s: { labels: Record<string, string>; minutes: number; createdBy: string; comment: string; now: Date },
): Promise<string> {
  let r: Response;
  try {
    r = await fetch(`${alertmanagerUrl.replace(/\/$/, '')}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: Object.entries(s.labels).map(([name, value]) => ({
          name,
          value,
          isRegex: false,
          isEqual: true,
        })),
        startsAt: s.now.toISOString(),
        endsAt: new Date(s.now.getTime() + s.minutes * 60_000).toISOString(),
        createdBy: s.createdBy,
        comment: s.comment,
      }),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (err) {
    throw new SilenceRefused(`Alertmanager could not be reached for the silence: ${(err as Error).message}`);
  }
  if (!r.ok)
    throw new SilenceRefused(
      `Alertmanager refused the silence: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`,
    );
  const id = ((await r.json()) as { silenceID?: string }).silenceID;
  if (!id) throw new SilenceRefused('Alertmanager answered without a silenceID');
  return id;
}
