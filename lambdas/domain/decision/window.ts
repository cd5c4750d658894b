/**
 * Sub-windows of the buckets an evaluation read: the main window, the performance window (which may
 * reach further back for late labels) and the recent data-quality window are merges of the same
 * buckets over different ranges.
 */
import type { ProfileSpec } from "../../../contracts/model";
import { emptyProfile, type Profile } from "../stats/profile";
import { mergeProfileList } from "../stats/profile-merge";
import type { WindowBucket } from "./decision";

/** The buckets starting in [from, to), merged, with their record counts. */
export interface MergedWindow {
  readonly from: number;
  readonly to: number;
  readonly profile: Profile;
  /** Records received (valid + quarantined). */
  readonly received: number;
  /** Quarantined records by reason. */
  readonly quarantined: Readonly<Record<string, number>>;
}

/** Records received and quarantined in the buckets starting in [from, to). */
export function countsOf(
  buckets: readonly WindowBucket[],
  from: number,
  to: number,
): { received: number; quarantined: Record<string, number> } {
  let received = 0;
  const quarantined: Record<string, number> = {};
  for (const bucket of buckets) {
    if (bucket.bucketStart < from || bucket.bucketStart >= to) continue;
    received += bucket.received ?? bucket.profile.count;
    for (const [reason, count] of Object.entries(bucket.quarantined ?? {}))
      quarantined[reason] = (quarantined[reason] ?? 0) + count;
  }
  return { received, quarantined };
}

/** Merges the buckets starting in [from, to) (an empty profile when there are none). */
export function mergeWindow(
  spec: ProfileSpec,
  buckets: readonly WindowBucket[],
  from: number,
  to: number,
): MergedWindow {
  // The empty profile first: every feature of the spec is present, with or without data.
  const inside = buckets.filter((b) => b.bucketStart >= from && b.bucketStart < to).map((b) => b.profile);
  const profile = mergeProfileList([emptyProfile(spec), ...inside]);
  return { from, to, profile, ...countsOf(buckets, from, to) };
}
