/** `T` with its readonly fields writable: for building an event or a record field by field on the hot path. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
