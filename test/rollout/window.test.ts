/**
 * Maintenance windows as pure functions of a window and an instant, with the platform's time zones (Intl): windows
 * across midnight, daylight saving time in both directions, and the next opening for any instant.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { windowSchema, WEEKDAYS, type RolloutWindow } from "../../components/config/schema";
import { isOpen, localTime, nextOpening, outsideWindow } from "../../components/rollout/window";

const window = (w: Partial<RolloutWindow> & Pick<RolloutWindow, "start" | "end">): RolloutWindow => windowSchema.parse(w);
const at = (iso: string) => new Date(iso);
const amsterdamNights = window({ days: ["mon", "tue", "wed", "thu", "fri"], start: "22:00", end: "04:00", timeZone: "Europe/Amsterdam" });

describe("whether a window is open", () => {
  it.each([
    // 2026-12-01 is a Tuesday; Amsterdam is UTC+1 in winter.
    ["Tuesday 22:00 local, the minute it opens", "2026-12-01T21:00:00Z", true],
    ["Tuesday 21:59 local", "2026-12-01T20:59:00Z", false],
    ["Wednesday 03:59 local, the tail of Tuesday's night", "2026-12-02T02:59:00Z", true],
    ["Wednesday 04:00 local, closed", "2026-12-02T03:00:00Z", false],
    ["Saturday 02:00 local, the tail of Friday's night", "2026-12-05T01:00:00Z", true],
    ["Saturday 23:00 local: Saturday is not listed", "2026-12-05T22:00:00Z", false],
    ["Monday 02:00 local: Sunday's night is not listed", "2026-12-07T01:00:00Z", false],
    ["in summer (UTC+2), Tuesday 22:30 local", "2026-07-07T20:30:00Z", true],
    ["in summer, Tuesday 21:30 local (20:30 UTC would be open in winter's offset)", "2026-07-07T19:30:00Z", false],
  ])("%s: %s", (_what, iso, open) => {
    expect(isOpen(amsterdamNights, at(iso))).toBe(open);
  });

  it("treats start == end as the whole day from start", () => {
    const allDay = window({ days: ["sun"], start: "00:00", end: "00:00", timeZone: "UTC" });
    expect(isOpen(allDay, at("2026-12-06T00:00:00Z"))).toBe(true);
    expect(isOpen(allDay, at("2026-12-06T23:59:00Z"))).toBe(true);
    expect(isOpen(allDay, at("2026-12-07T00:00:00Z"))).toBe(false);
  });

  it("opens at the first minute after a start that falls in the spring-forward gap", () => {
    // 2027-03-28, Europe/Amsterdam: 02:00 CET jumps to 03:00 CEST (01:00 UTC). A 02:30 start opens at 03:00 local.
    const gap = window({ days: ["sun"], start: "02:30", end: "05:00", timeZone: "Europe/Amsterdam" });
    expect(nextOpening(gap, at("2027-03-27T23:00:00Z"))?.toISOString()).toBe("2027-03-28T01:00:00.000Z");
    expect(localTime(at("2027-03-28T01:00:00Z"), "Europe/Amsterdam").text).toBe("2027-03-28 03:00");
  });

  it("is open through both passes of the repeated autumn hour", () => {
    // 2026-10-25, Europe/Amsterdam: 03:00 CEST falls back to 02:00 CET; 02:30 local happens at 00:30 and 01:30 UTC.
    const night = window({ days: ["sun"], start: "02:00", end: "03:00", timeZone: "Europe/Amsterdam" });
    expect(isOpen(night, at("2026-10-25T00:30:00Z"))).toBe(true);
    expect(isOpen(night, at("2026-10-25T01:30:00Z"))).toBe(true);
    expect(isOpen(night, at("2026-10-25T02:30:00Z"))).toBe(false);
  });
});

describe("when a closed window opens next", () => {
  it("says so in the drain hook's words, in local time and UTC", () => {
    expect(outsideWindow(amsterdamNights, at("2026-12-05T12:00:00Z"))).toBe(
      "outside the maintenance window (mon, tue, wed, thu, fri 22:00–04:00 Europe/Amsterdam): it opens at 2026-12-07 22:00 Europe/Amsterdam (2026-12-07T21:00Z)",
    );
    expect(outsideWindow(amsterdamNights, at("2026-12-01T21:30:00Z"))).toBeUndefined();
    expect(outsideWindow(undefined, at("2026-12-05T12:00:00Z"))).toBeUndefined();
  });

  const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
  const windows = fc.record({
    days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
    start: hhmm,
    end: hhmm,
    timeZone: fc.constantFrom("UTC", "Europe/Amsterdam", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"),
  });
  const instants = fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2035-12-31T00:00:00Z"), noInvalidDate: true });

  it("is open at the next opening, and closed every minute before it", () => {
    fc.assert(
      fc.property(windows, instants, (w, from) => {
        const opens = nextOpening(w, from);
        expect(opens).toBeDefined();
        const t = opens!.getTime();
        expect(isOpen(w, opens!)).toBe(true);
        expect(t - from.getTime()).toBeLessThanOrEqual(8 * 86_400_000);
        // Sample minutes before it (all of them would be slow): none is open.
        const first = Math.ceil(from.getTime() / 60_000) * 60_000;
        for (let m = t - 60_000; m >= first && m > t - 90 * 60_000; m -= 60_000) expect(isOpen(w, new Date(m))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it("is where it was asked when the window is open already", () => {
    fc.assert(
      fc.property(windows, instants, (w, from) => {
        const minute = new Date(Math.ceil(from.getTime() / 60_000) * 60_000);
        if (isOpen(w, minute)) expect(nextOpening(w, from)?.getTime()).toBe(minute.getTime());
      }),
      { numRuns: 150 },
    );
  });
});
