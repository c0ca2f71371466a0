// Quiet hours: when a due notice must wait, and until when. Pure: time comes in as an argument.

export interface QuietHours {
  /** Local times `HH:MM`; a window that crosses midnight (21:00–07:00) is the usual case. */
  start: string;
  end: string;
  time_zone: string;
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Minutes since local midnight, and the seconds, of `at` in `timeZone`. */
function localClock(at: Date, timeZone: string): { minutes: number; seconds: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { minutes: get('hour') * 60 + get('minute'), seconds: get('second') };
}

/**
 * The end of the quiet period `at` falls in, or undefined when `at` is not quiet. The end is found by
 * counting local minutes forward, so it is right across midnight; a daylight-saving jump inside the
 * window (none in Indonesia) shifts it by that jump at most.
 */
export function quietUntil(at: Date, quiet: QuietHours | null): Date | undefined {
  if (!quiet) return undefined;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return undefined;
  const { minutes, seconds } = localClock(at, quiet.time_zone);
  const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  if (!inside) return undefined;
  const wait = (end - minutes + 1440) % 1440;
  const ms = wait * 60_000 - seconds * 1000 - at.getUTCMilliseconds();
  return new Date(at.getTime() + ms);
}
