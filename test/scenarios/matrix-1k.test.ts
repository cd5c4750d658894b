import { describeMatrix } from "../support/matrix-suite";

describeMatrix(1_000);
