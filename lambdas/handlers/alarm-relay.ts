/**
 * Alarm relay Lambda, the action of every operational CloudWatch alarm (invoked asynchronously by
 * CloudWatch with the alarm's state change). Composition root: the SNS notifier, Powertools, and the
 * relay use case (app/alerts/relay-alarm.ts), which republishes the change to the alert topic with the
 * `severity` and `modelId` message attributes severity-filtered subscribers match on. A failure throws:
 * Lambda retries the invocation, then sends it to the dead-letter queue.
 *
 * Environment: `TOPIC_ARN`.
 */
import { SNSClient } from "@aws-sdk/client-sns";
import type { Context } from "aws-lambda";
import { SERVICE_NAMES } from "../../contracts/telemetry";
import { SnsNotifier } from "../adapters/sns-notifier";
import { type RelayOutcome, relayAlarm } from "../app/alerts/relay-alarm";
import type { AlarmStateChange } from "../domain/alerts/alarm-notification";
import type { Notifier } from "../ports/notifier";
import { requireEnv } from "./environment";
import { type Powertools, powertools, withPowertools } from "./powertools";

/** The middy-wrapped handler over an injected notifier (tests). */
export function createAlarmRelayHandler(deps: {
  readonly notifier: Notifier;
  readonly tools?: Partial<Powertools>;
}) {
  const tools = powertools(SERVICE_NAMES.alarmRelay, deps.tools);
  const base = async (event: AlarmStateChange, _context: Context): Promise<RelayOutcome> => {
    const outcome = await relayAlarm({ notifier: deps.notifier }, event);
    tools.logger.info("alarm relayed", {
      alarmName: event?.alarmData?.alarmName,
      state: event?.alarmData?.state?.value,
      ...outcome,
    });
    return outcome;
  };
  return withPowertools(base, tools);
}

let singleton: ReturnType<typeof createAlarmRelayHandler> | undefined;

/** The deployed handler: the notifier from the environment, built once per container. */
export const handler = (event: AlarmStateChange, context: Context): Promise<RelayOutcome> => {
  if (!singleton) {
    const { TOPIC_ARN } = requireEnv(process.env, ["TOPIC_ARN"]);
    const tools = powertools(SERVICE_NAMES.alarmRelay);
    singleton = createAlarmRelayHandler({
      notifier: new SnsNotifier({
        client: tools.tracer.captureAWSv3Client(new SNSClient({})),
        topicArn: TOPIC_ARN,
      }),
      tools,
    });
  }
  return singleton(event, context);
};
