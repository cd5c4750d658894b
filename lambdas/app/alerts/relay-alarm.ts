/**
 * RelayAlarm: turns a CloudWatch alarm's state change into an alert on the topic, with the `severity`
 * (and, for a model's alarm, `modelId`) message attributes every other alert carries. A failed publish
 * throws, so that Lambda retries the asynchronous invocation and finally dead-letters it.
 */
import { type AlarmStateChange, alarmNotification } from "../../domain/alerts/alarm-notification";
import type { Notifier } from "../../ports/notifier";

export interface RelayOutcome {
  /** Whether a notification was published (OK without a preceding ALARM, INSUFFICIENT_DATA: not). */
  readonly published: boolean;
  readonly messageId?: string;
  readonly severity?: string;
}

export async function relayAlarm(
  deps: { readonly notifier: Notifier },
  change: AlarmStateChange,
): Promise<RelayOutcome> {
  const notice = alarmNotification(change);
  if (!notice) return { published: false };
  const out = await deps.notifier.publish(notice);
  return {
    published: true,
    severity: notice.severity,
    ...(out.messageId ? { messageId: out.messageId } : {}),
  };
}
