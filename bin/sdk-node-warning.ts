/**
 * Keeps the CLI's output free of one known notice and nothing else. Under Node.js < 22 the AWS SDK for
 * JavaScript v3 warns on every command that SDK versions published after the first week of January 2027
 * need Node >= 22 (`emitWarningIfUnsupportedVersion` of @aws-sdk/core: a plain `process.emitWarning`
 * text starting `NodeVersionSupportWarning:`, with no code or type to filter on). The supported Node
 * versions are stated in package.json `engines` and the README, so the CLI turns off exactly that
 * notice with the SDK's own switch, `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED`, unless the
 * caller set it; every other warning stays visible. Imported first by bin/cli.ts, before any SDK client
 * is created.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
