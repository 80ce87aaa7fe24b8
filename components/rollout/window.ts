/**
 * Maintenance windows (`rollout.window`), as plain functions of a window and an instant. Local time comes from the
 * platform's Intl (its time zone database), never from a table of offsets, so daylight saving time is whatever the
 * zone says: a window is a range of local wall-clock time, opening on the listed days.
 *
 * - `start < end`: open from start to end on each listed day.
 * - `start > end`: crosses midnight: open from start on a listed day to end on the day after.
 * - `start == end`: open for the whole day from start on each listed day (24 hours of wall-clock time).
 * - A start that falls into a DST gap (02:30 on the night clocks jump from 02:00 to 03:00) opens at the first local
 *   minute after it (03:00); a repeated hour (autumn) is inside the window both times.
 */
import type { RolloutWindow, Weekday } from "../config/schema";
import { WEEKDAYS } from "../config/schema";

const MINUTE = 60_000;
const DAY_MINUTES = 24 * 60;

/** Local wall-clock parts of an instant in a time zone. */
export interface LocalTime {
  /** `mon` … `sun`. */
  day: Weekday;
  /** Minutes since local midnight, 0–1439. */
  minute: number;
  /** `2026-12-01 22:00` */
  text: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", weekday: "short", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localTime(at: Date, timeZone: string): LocalTime {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  const day = parts.weekday.toLowerCase().slice(0, 3) as Weekday;
  const hour = Number(parts.hour) % 24;
  const minute = hour * 60 + Number(parts.minute);
  return { day, minute, text: `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}` };
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const previousDay = (day: Weekday): Weekday => WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7];

/** Whether the window is open at an instant. */
export function isOpen(window: RolloutWindow, at: Date): boolean {
  const { day, minute } = localTime(at, window.timeZone);
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  const opensOn = (d: Weekday) => window.days.includes(d);
  if (start < end) return opensOn(day) && minute >= start && minute < end;
  // Crossing midnight (or 24 hours when start == end): the tail belongs to the day before.
  return (opensOn(day) && minute >= start) || (opensOn(previousDay(day)) && minute < end);
}

/**
 * The first instant (to the minute) at or after `from` at which the window is open; undefined only for a window that
 * never opens (impossible for a validated one, which lists at least one day).
 */
export function nextOpening(window: RolloutWindow, from: Date): Date | undefined {
  let t = Math.ceil(from.getTime() / MINUTE) * MINUTE;
  const limit = t + 9 * DAY_MINUTES * MINUTE;
  const start = minutesOf(window.start);
  while (t <= limit) {
    if (isOpen(window, new Date(t))) return new Date(t);
    // Jump close to the next local start, then walk the last two hours minute by minute, so that a DST shift of up to
    // two hours can never make the jump overshoot the opening.
    const { minute } = localTime(new Date(t), window.timeZone);
    const untilStart = (start - minute + DAY_MINUTES) % DAY_MINUTES;
    t += Math.max(1, untilStart - 120) * MINUTE;
  }
  return undefined;
}

/** `mon, tue 22:00–04:00 Europe/Amsterdam` */
export function describeWindow(window: RolloutWindow): string {
  const days = window.days.length === 7 ? "every day" : window.days.join(", ");
  return `${days} ${window.start}–${window.end} ${window.timeZone}`;
}

/** Why a node may not start now, or undefined when the window is open (or there is none). */
export function outsideWindow(window: RolloutWindow | undefined, at: Date): string | undefined {
  if (!window || isOpen(window, at)) return undefined;
  const opens = nextOpening(window, at);
  const when = opens ? `${localTime(opens, window.timeZone).text} ${window.timeZone} (${opens.toISOString().replace(/:00\.000Z$/, "Z")})` : "never";
  return `outside the maintenance window (${describeWindow(window)}): it opens at ${when}`;
}

/** Why the drain hook refuses to take node resource `name` out at `at` (before cordoning anything), or undefined
 *  inside its window or with none. The engine suite runs this very hook, against a clock it sets. */
export function windowRefusal(name: string, window: RolloutWindow | undefined, at: Date): string | undefined {
  const closed = outsideWindow(window, at);
  return closed && `${name}: not taken out, ${closed}. Run pulumi up again then: the rollout resumes at this node.`;
}
