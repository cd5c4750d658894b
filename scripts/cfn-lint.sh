#!/usr/bin/env bash
# Lints the synthesized CloudFormation templates (cdk.out/*.template.json) with cfn-lint, configured by
# .cfnlintrc.yaml. Synthesizes first (no AWS account needed). Where cfn-lint is not installed (it is a
# Python tool: pip install cfn-lint), says so and skips. Run by .ci/run; `npm run lint:cfn` locally.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "cfn-lint: skipped, cfn-lint is not installed (pip install cfn-lint) - cdk.out/*.template.json not linted"
  exit 0
fi
echo "cfn-lint $(cfn-lint --version 2>&1 | awk '{print $2}') on cdk.out/*.template.json"
export CDK_DISABLE_CLI_TELEMETRY=true
npx cdk synth --quiet --no-notices >/dev/null
cfn-lint --config-file .cfnlintrc.yaml
echo "cfn-lint: no findings"
