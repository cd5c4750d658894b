/**
 * What a CloudWatch alarm's state change tells a human, as a notification with the same attributes as
 * every other alert of this project (`severity`, `modelId`), so that a subscription with a filter policy
 * such as `{"severity": ["warn", "retrain"]}` receives operational alarms too. CloudWatch's own SNS
 * notifications carry no message attributes, which is why alarms invoke a relay instead
 * (lib/constructs/alarm-relay.ts). Pure: the event in, the notification (or nothing) out.
 *
 * The input is the payload CloudWatch sends to a Lambda alarm action
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-actions-Lambda.html).
 */
import type { Severity } from "../../../contracts/policy";
import { UNKNOWN_MODEL_ID } from "../../../contracts/telemetry";

export type AlarmStateValue = "OK" | "ALARM" | "INSUFFICIENT_DATA";

/** The fields of CloudWatch's Lambda alarm-action payload that the notification uses. */
export interface AlarmStateChange {
  readonly source?: string;
  readonly alarmArn: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly time?: string;
  readonly alarmData: {
    readonly alarmName: string;
    readonly state: { readonly value: string; readonly reason?: string; readonly timestamp?: string };
    readonly previousState?: {
      readonly value: string;
      readonly reason?: string;
      readonly timestamp?: string;
    };
    readonly configuration?: {
      readonly description?: string;
      readonly metrics?: readonly {
        readonly id?: string;
        readonly metricStat?: {
          readonly metric?: {
            readonly namespace?: string;
            readonly name?: string;
            readonly dimensions?: Readonly<Record<string, string>>;
          };
        };
        readonly expression?: string;
      }[];
    };
  };
}

/** A notification about an alarm; the shape of the Notifier port's notification. */
export interface AlarmNotice {
  readonly subject: string;
  readonly message: string;
  readonly severity: Severity;
  /** The model the alarm watches (a `modelId` dimension of its metrics), when exactly one. */
  readonly modelId?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** `ALARM` is worth a look (`warn`); the return to `OK` after an alarm is news (`info`). */
export const ALARM_SEVERITY: Readonly<Record<"ALARM" | "OK", Severity>> = { ALARM: "warn", OK: "info" };

/** Thrown for a payload that is not a CloudWatch alarm state change: the relay fails, and retries. */
export class NotAnAlarmEventError extends Error {
  override readonly name = "NotAnAlarmEventError";
}

/** The one model whose `modelId` dimension the alarm's metrics carry, if exactly one (not `_unknown`). */
export function alarmModelId(change: AlarmStateChange): string | undefined {
  const ids = new Set(
    (change.alarmData.configuration?.metrics ?? [])
      .map((m) => m.metricStat?.metric?.dimensions?.modelId)
      .filter((id): id is string => typeof id === "string" && id !== "" && id !== UNKNOWN_MODEL_ID),
  );
  return ids.size === 1 ? [...ids][0] : undefined;
}

/**
 * The notification for a state change, or undefined when there is nothing to tell: `INSUFFICIENT_DATA`,
 * and `OK` not coming from `ALARM` (a new alarm settling after a deploy), are not relayed.
 */
export function alarmNotification(change: AlarmStateChange): AlarmNotice | undefined {
  const data = change?.alarmData;
  if (typeof change?.alarmArn !== "string" || typeof data?.alarmName !== "string" || !data.state?.value)
    throw new NotAnAlarmEventError(
      "not a CloudWatch alarm state change (alarmArn, alarmData.alarmName, alarmData.state)",
    );
  const state = data.state.value;
  const previous = data.previousState?.value;
  if (state !== "ALARM" && state !== "OK") return undefined;
  if (state === "OK" && previous !== "ALARM") return undefined;
  const modelId = alarmModelId(change);
  const lines = [
    `${data.alarmName} is ${state}${previous ? ` (was ${previous})` : ""}${data.state.timestamp ? ` since ${data.state.timestamp}` : ""}.`,
    ...(data.configuration?.description ? ["", data.configuration.description] : []),
    ...(data.state.reason ? ["", `Reason: ${data.state.reason}`] : []),
    "",
    `Alarm: ${change.alarmArn}`,
    ...(modelId ? [`Model: ${modelId}`] : []),
  ];
  return {
    subject: `[retrain-triggers] ${state}: ${data.alarmName}`,
    message: lines.join("\n"),
    severity: ALARM_SEVERITY[state],
    ...(modelId ? { modelId } : {}),
    attributes: { alarmName: data.alarmName, alarmState: state },
  };
}
