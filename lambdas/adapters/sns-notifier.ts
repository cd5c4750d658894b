/**
 * Notifier on SNS. `severity` and `modelId` are message attributes so that subscriptions can filter
 * with a filter policy (e.g. `{"severity": ["retrain"]}` for a pager); the body is the decision's
 * human-readable summary. SNS subjects are limited to 100 ASCII characters and bodies to 256 KB, so
 * both are trimmed rather than rejected.
 */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Notification, Notifier } from "../ports/notifier";

const MAX_SUBJECT = 100;
const MAX_MESSAGE_BYTES = 256 * 1024 - 1024;

export interface SnsNotifierOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
}

/** SNS subjects: ASCII printable, no line breaks, at most 100 characters. */
export function sanitizeSubject(subject: string): string {
  const ascii = subject.replace(/[^\x20-\x7e]/g, " ").trim();
  return ascii.length <= MAX_SUBJECT ? ascii : `${ascii.slice(0, MAX_SUBJECT - 3)}...`;
}

function truncateMessage(message: string): string {
  if (Buffer.byteLength(message) <= MAX_MESSAGE_BYTES) return message;
  const buf = Buffer.from(message).subarray(0, MAX_MESSAGE_BYTES);
  return `${buf.toString("utf8").replace(/\uFFFD$/, "")}\n[truncated]`;
}

export class SnsNotifier implements Notifier {
  constructor(private readonly options: SnsNotifierOptions) {}

  async publish(n: Notification): Promise<{ messageId?: string }> {
    const attributes: Record<string, { DataType: "String"; StringValue: string }> = {
      severity: { DataType: "String", StringValue: n.severity },
    };
    if (n.modelId !== undefined) attributes.modelId = { DataType: "String", StringValue: n.modelId };
    for (const [k, v] of Object.entries(n.attributes ?? {}))
      if (v !== "") attributes[k] = { DataType: "String", StringValue: v };
    const out = await this.options.client.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: sanitizeSubject(n.subject),
        Message: truncateMessage(n.message),
        MessageAttributes: attributes,
      }),
    );
    return out.MessageId === undefined ? {} : { messageId: out.MessageId };
  }
}
