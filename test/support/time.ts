/**
 * Instants the test fixtures share. Durations are not defined here: tests import MINUTE_MS, HOUR_MS and
 * DAY_MS from contracts/time.ts, the one copy the code uses.
 */

/** Friday 27 November 2026, 10:00 UTC: the default event time of the event builders (events.ts). */
export const T0 = Date.UTC(2026, 10, 27, 10);
