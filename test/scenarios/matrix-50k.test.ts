import { describeMatrix } from "../support/matrix-suite";

describeMatrix(50_000);
