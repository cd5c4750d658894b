/** asl-validator 4 ships no type declarations; the part the workflow tests use. */
declare module "asl-validator" {
  interface AslValidatorOptions {
    checkPaths?: boolean;
    checkArn?: boolean;
  }
  interface AslValidatorResult {
    isValid: boolean;
    errors: { "Error code": string; Message: string }[];
  }
  export default function aslValidator(
    definition: unknown,
    options?: AslValidatorOptions,
  ): AslValidatorResult;
}
