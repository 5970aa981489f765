// The generated loom.v1 types the dashboard reads (runtime/proto/gen, through runtime/contract/
// dashboard.ts) name two things of Node's side: @grpc/proto-loader's Long (int64 fields) and Buffer
// (bytes fields). webview/tsconfig.json maps '@grpc/proto-loader' here, so the browser project
// typechecks without Node's types (which the real package would bring in): Long is the `long`
// package's, and a Buffer is, in the browser, only ever a byte array (on the wire: base64 text).
import Long = require('long');

export { Long };

declare global {
  type Buffer = Uint8Array;
}
